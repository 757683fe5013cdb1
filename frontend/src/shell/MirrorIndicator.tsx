// The top bar's mirror state ("mirror: backfilling 43 %", "live", "lagging 12 s", "disconnected
// since 10:42:03"), with the details a click away. Nothing is shown when no mirror is configured.
import { useEffect, useRef, useState } from "react";
import { mirrorTone, shortDuration, useMirrors, type MirrorState } from "../api/mirrors";

function Details({ m }: { m: MirrorState }) {
  const b = m.backfill;
  const rows: [string, string][] = [
    ["source", m.source],
    ["schema version", m.schema_version === null ? "?" : String(m.schema_version)],
    ["wakes on", m.listening ? `notifications (${m.triggers.length} triggers)` : "polling"],
    ["backfill", `${b.runs_done.toLocaleString()} / ${b.runs_total.toLocaleString()} runs (${b.percent} %)` +
      (m.state === "backfilling" && b.eta_s !== null ? `, ${shortDuration(b.eta_s)} left` : "")],
    ["rows applied", m.rows_applied.toLocaleString()],
  ];
  if (m.lag_ms !== null) rows.push(["lag", shortDuration(m.lag_ms / 1000)]);
  if (m.source_queries_per_s !== null) rows.push(["queries to the source", `${m.source_queries_per_s} /s`]);
  if (m.skipped_rows) rows.push(["rows skipped", `${m.skipped_rows}: ${m.last_skipped.at(-1) ?? ""}`]);
  for (const [root, n] of Object.entries(m.datastore_unreadable)) rows.push(["datastore not readable", `${root} (${n} attempts)`]);
  if (m.error) rows.push(["last error", m.error]);
  return (
    <table className="mirror-details">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function MirrorIndicator() {
  const mirrors = useMirrors();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, [open]);
  const list = mirrors.data ?? [];
  if (list.length === 0) return null;
  return (
    <div className="mirror-wrap" ref={ref}>
      {list.map((m) => (
        <button
          key={m.name}
          type="button"
          className={`mirror mirror-${mirrorTone(m.state)}`}
          data-mirror-state={m.state}
          title={`Mirror of the metaflow-service database ${m.source}: ${m.label} (click for details)`}
          aria-expanded={open}
          onClick={() => setOpen((o) => !o)}
        >
          <span className="dot" aria-hidden /> mirror: {m.label}
        </button>
      ))}
      {open && (
        <div className="mirror-pop" role="dialog" aria-label="Mirror details">
          {list.map((m) => (
            <section key={m.name}>
              <h3>{m.name} — {m.label}</h3>
              <Details m={m} />
            </section>
          ))}
        </div>
      )}
    </div>
  );
}
