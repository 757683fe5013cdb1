// "Why?" beside a run's or a task's status: the rule that decided it and its evidence, asked from
// the backend only when opened (never one request per row).
import { useEffect, useRef, useState } from "react";
import { createPortal } from "react-dom";
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

export function StatusWhy({ flow, run, task, compact = false, tabIndex }: {
  flow: string; run: string; task?: { step: string; id: string }; compact?: boolean;
  /** -1 inside a list with one tab stop (the task list's roving rows): reachable by mouse only. */
  tabIndex?: number;
}) {
  const [pos, setPos] = useState<{ top: number; left: number } | null>(null);
  const open = pos !== null;
  const query = useStatusExplanation(flow, run, task ?? null, open);
  const button = useRef<HTMLButtonElement>(null);
  const pop = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = () => setPos(null);
    const onKey = (e: KeyboardEvent) => { if (e.key === "Escape") { close(); button.current?.focus(); } };
    const onDown = (e: MouseEvent) => {
      const t = e.target as Node;
      if (!button.current?.contains(t) && !pop.current?.contains(t)) close();
    };
    window.addEventListener("keydown", onKey);
    window.addEventListener("mousedown", onDown);
    window.addEventListener("scroll", close, true);
    return () => {
      window.removeEventListener("keydown", onKey);
      window.removeEventListener("mousedown", onDown);
      window.removeEventListener("scroll", close, true);
    };
  }, [open]);
  const toggle = (e: React.MouseEvent) => {
    // In a clickable row (the run list) the button must not open the row.
    e.stopPropagation();
    if (open) { setPos(null); return; }
    const r = button.current!.getBoundingClientRect();
    setPos({ top: r.bottom + 4, left: Math.max(8, Math.min(r.left, window.innerWidth - 540)) });
  };
  return (
    <span className="why-wrap">
      <button type="button" ref={button} className={`btn btn-small why-button${compact ? " compact" : ""}`}
        aria-expanded={open} aria-label="Why this status?" data-testid="why-status" tabIndex={tabIndex}
        title="Why this status? The rule that decided it, with its evidence" onClick={toggle}>
        {compact ? "?" : "why?"}
      </button>
      {/* In a portal, positioned from the button: list rows clip what overflows them. */}
      {open && createPortal(
        <div className="why-pop" role="dialog" aria-label="Why this status" ref={pop} style={{ top: pos.top, left: pos.left }}
          onClick={(e) => e.stopPropagation()}>
          {query.isPending ? <Loading label="Asking why" /> : query.isError
            ? <ErrorBox error={query.error} retry={() => void query.refetch()} /> : <Explanation why={query.data} />}
        </div>, document.body)}
    </span>
  );
}
