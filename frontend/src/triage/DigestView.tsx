// The failure digest: failed tasks grouped by error signature. Opening a group puts its signature
// in the URL (dg=…), so a group is a shareable link; its example links to the exact log lines.
import { Link } from "react-router";
import type { FailureDigest, FailureGroup, Run } from "../api/types";
import { formatTime } from "../ui/format";
import { Empty } from "../ui/states";

function where(g: FailureGroup): string {
  if (!g.frame) return "no traceback";
  return `${g.frame.file.split("/").pop()}:${g.frame.line ?? "?"} in ${g.frame.function}`;
}

function GroupDetail({ run, g }: { run: Run; g: FailureGroup }) {
  const ex = g.example;
  const seen = g.first_seen_run === run.run_id ? "first seen in this run" : `first seen in run ${g.first_seen_run}`;
  return (
    <div className="dg-detail" data-testid="digest-detail">
      <p className="dg-message mono">{g.exception_type ? `${g.exception_type}: ` : ""}{g.example_message}</p>
      {g.frame?.code && <pre className="dg-code">{where(g)}{"\n    "}{g.frame.code}</pre>}
      <dl className="kv dg-kv">
        <div><dt>steps</dt><dd>{g.steps.map((s) => `${s.step_name} (${s.count})`).join(", ")}</dd></div>
        {g.foreach_values.length > 0 && (
          <div><dt>foreach inputs</dt><dd className="dg-values">
            {g.foreach_values.map((v) => <span key={v.value} className="tag">{v.value}{v.count > 1 ? ` ×${v.count}` : ""}</span>)}
            {g.foreach_values_truncated && <span className="muted">…</span>}
          </dd></div>
        )}
        <div><dt>first</dt><dd><Link to={`/${g.first.pathspec}?attempt=${g.first.attempt}`}>{g.first.step_name}/{g.first.task_id}</Link> <span className="muted">{formatTime(g.first.at)}</span></dd></div>
        <div><dt>last</dt><dd><Link to={`/${g.last.pathspec}?attempt=${g.last.attempt}`}>{g.last.step_name}/{g.last.task_id}</Link> <span className="muted">{formatTime(g.last.at)}</span></dd></div>
        <div><dt>other runs</dt><dd>{seen}{g.other_runs.length > 0 && <>; also in {g.other_runs.map((r, i) => (
          <span key={r}>{i > 0 && ", "}<Link to={`/${encodeURIComponent(run.flow_id)}/${encodeURIComponent(r)}?tab=triage&dg=${g.signature}`}>{r}</Link></span>
        ))}</>}</dd></div>
      </dl>
      <p>
        <Link className="btn btn-small" to={ex.url} data-testid="digest-log-link">
          Open the log at the error ({ex.step_name}/{ex.task_id}, attempt {ex.attempt}{ex.log ? `, ${ex.log.stream} line ${ex.log.line}` : ""})
        </Link>
        {ex.log && <code className="dg-logline">{ex.log.text}</code>}
        {!ex.log && <span className="muted"> the error's line was not found in the task's stderr</span>}
      </p>
    </div>
  );
}

export function DigestView({ run, digest, open, setOpen }: {
  run: Run; digest: FailureDigest; open: string | null; setOpen: (sig: string | null) => void;
}) {
  if (!digest.groups.length) {
    return <Empty>No failed tasks and no failed attempts in this run.</Empty>;
  }
  return (
    <div className="digest" data-testid="digest">
      <p className="muted">
        {digest.failed_tasks} failed task{digest.failed_tasks === 1 ? "" : "s"} and {digest.retried_attempts} retried
        attempt{digest.retried_attempts === 1 ? "" : "s"} in {digest.groups.length} signature{digest.groups.length === 1 ? "" : "s"}
        {digest.other_tasks ? ` (+${digest.other_tasks} failed tasks in groups not listed)` : ""}; compared with
        {" "}{digest.runs_compared.length} recent failed run{digest.runs_compared.length === 1 ? "" : "s"} of {run.flow_id}.
      </p>
      <ul className="dg-groups" role="list">
        {digest.groups.map((g) => {
          const isOpen = open === g.signature;
          return (
            <li key={g.signature} className={isOpen ? "open" : ""} data-signature={g.signature}>
              <button type="button" className="dg-head" aria-expanded={isOpen} data-testid="digest-group"
                onClick={() => setOpen(isOpen ? null : g.signature)}>
                <span className={`dg-count ${g.count ? "failed" : "retried"}`} title="failed tasks">{g.count}</span>
                <span className="dg-type">{g.exception_type ?? "no exception"}</span>
                <span className="dg-msg mono">{g.message}</span>
                <span className="dg-where muted">{where(g)}</span>
                {g.retried > 0 && <span className="muted dg-retried">+{g.retried} retried</span>}
                {g.first_seen_run === run.run_id ? <span className="badge dg-new">new</span>
                  : <span className="muted">since run {g.first_seen_run}</span>}
              </button>
              {isOpen && <GroupDetail run={run} g={g} />}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
