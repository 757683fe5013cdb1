// "Why?" beside a run's or a task's status: the rule that decided it and its evidence, asked from
// the backend only when opened (never one request per row).
import { useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { useStatusExplanation } from "../api/triage";
import type { StatusExplanation } from "../api/types";
import { formatTime } from "../ui/format";
import { ErrorBox, Loading } from "../ui/states";
import "./triage.css";

export function Explanation({ why }: { why: StatusExplanation }) {
  return (
    <div className="why" data-testid="status-explanation" data-rule={why.rule}>
      <p className="why-summary">{why.summary}</p>
      <dl className="why-evidence">
        {why.evidence.map((e, i) => (
          <div key={i}>
            <dt>{e.label}</dt>
            <dd>{e.link ? <Link to={e.link}>{e.value}</Link> : e.value}
              {e.at !== null && !e.value.includes("UTC") && <span className="muted"> · {formatTime(e.at)}</span>}</dd>
          </div>
        ))}
      </dl>
      {why.attempts.length > 1 && (
        <ol className="why-attempts" start={0}>
          {why.attempts.map((a) => <li key={a.attempt}><span className={`why-rule status-${a.status}`}>{a.rule}</span> {a.summary}</li>)}
        </ol>
      )}
      <p className="muted why-rule-line">rule: <code>{why.rule}</code> · {why.source === "native" ? "recorded by core_runtime" : "Metaflow's metadata rules"}</p>
    </div>
  );
}

export function StatusWhy({ flow, run, task }: { flow: string; run: string; task?: { step: string; id: string } }) {
  const [open, setOpen] = useState(false);
  const query = useStatusExplanation(flow, run, task ?? null, open);
  const box = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => { if (e.key === "Escape") setOpen(false); };
    const onClick = (e: MouseEvent) => { if (box.current && !box.current.contains(e.target as Node)) setOpen(false); };
    window.addEventListener("keydown", onKey);
    window.addEventListener("mousedown", onClick);
    return () => { window.removeEventListener("keydown", onKey); window.removeEventListener("mousedown", onClick); };
  }, [open]);
  return (
    <span className="why-wrap" ref={box}>
      <button type="button" className="btn btn-small why-button" aria-expanded={open} data-testid="why-status"
        title="Why this status? The rule that decided it, with its evidence" onClick={() => setOpen((o) => !o)}>
        why?
      </button>
      {open && (
        <div className="why-pop" role="dialog" aria-label="Why this status">
          {query.isPending ? <Loading label="Asking why" /> : query.isError
            ? <ErrorBox error={query.error} retry={() => void query.refetch()} /> : <Explanation why={query.data} />}
        </div>
      )}
    </span>
  );
}
