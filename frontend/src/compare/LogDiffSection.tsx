// "What changed" in the logs: run b's first failed task's log beside the same step's log in run a,
// aligned, differing lines marked (timestamps and ids ignored by the server's comparison). Long
// stretches of equal lines are folded. The stream is in the URL (lstream=stderr).
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useLogDiff } from "../api/triage";
import type { LogDiff } from "../api/types";
import { Empty, ErrorBox, Loading } from "../ui/states";
import "../triage/triage.css";
import { fold } from "./logDiffFold";

function Side({ label, side }: { label: string; side: LogDiff["a"] }) {
  if (!side) return <th>{label}: —</th>;
  return (
    <th colSpan={2}>
      {label}: <Link to={`/${side.pathspec}?attempt=${side.attempt}`} className="mono">{side.pathspec}</Link>
      {" "}<span className="muted">attempt {side.attempt} · {side.status} · {side.total_lines} lines</span>
    </th>
  );
}

export function LogDiffSection({ a, b }: { a: string; b: string }) {
  const [params, setParams] = useSearchParams();
  const stream = params.get("lstream") === "stderr" ? "stderr" : "stdout";
  const query = useLogDiff(a, b, stream, true);
  const [unfolded, setUnfolded] = useState<Set<number>>(new Set());
  const setStream = (s: string) => {
    const next = new URLSearchParams(params);
    if (s === "stdout") next.delete("lstream"); else next.set("lstream", s);
    setParams(next, { replace: true });
  };
  return (
    <section className="cmp-section" data-testid="log-diff" aria-labelledby="logdiff-h">
      <h2 id="logdiff-h">Logs: the failed task beside the same step in A</h2>
      <div className="seg" role="group" aria-label="Log stream">
        {(["stdout", "stderr"] as const).map((s) => (
          <button key={s} type="button" aria-pressed={stream === s} onClick={() => setStream(s)}>{s}</button>
        ))}
      </div>
      {query.isPending ? <Loading label="Aligning the logs" /> : query.isError
        ? <ErrorBox error={query.error} retry={() => void query.refetch()} /> : (() => {
          const d = query.data;
          if (!d.b) return <Empty>{d.note ?? "Nothing to compare."}</Empty>;
          if (!d.rows.length) return <Empty>Both {stream} logs are empty.</Empty>;
          return (
            <>
              <p className="muted" data-testid="log-diff-summary">
                {d.changed === 0 ? "The logs are the same (timestamps and ids aside)." : `${d.changed} line${d.changed === 1 ? "" : "s"} differ`}
                {d.truncated && " · the last 2,000 lines of each log"}{d.note && ` · ${d.note}`}
              </p>
              <div className="logdiff">
                <table>
                  <thead><tr><Side label="A" side={d.a} /><Side label="B" side={d.b} /></tr></thead>
                  <tbody>
                    {fold(d.rows).map((p) => p.kind === "fold" && !unfolded.has(p.id) ? (
                      <tr key={`f${p.id}`} className="fold">
                        <td colSpan={4}>
                          <button type="button" className="btn btn-small" onClick={() => setUnfolded((u) => new Set(u).add(p.id))}>
                            {p.rows.length} equal lines
                          </button>
                        </td>
                      </tr>
                    ) : (p.kind === "fold" ? p.rows : [p.row]).map((r, k) => (
                      <tr key={`${r.a?.line ?? "-"}:${r.b?.line ?? "-"}:${k}`} className={r.op} data-op={r.op}>
                        <td className="ln">{r.a?.line ?? ""}</td>
                        <td className="txt txt-a">{r.a?.text ?? ""}</td>
                        <td className="ln">{r.b?.line ?? ""}</td>
                        <td className="txt txt-b">{r.b?.text ?? ""}</td>
                      </tr>
                    )))}
                  </tbody>
                </table>
              </div>
            </>
          );
        })()}
    </section>
  );
}
