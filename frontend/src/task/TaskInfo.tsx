import { Link } from "react-router";
import type { Attempt, Decorator, Step, Task } from "../api/types";
import { formatPath } from "../nav/viewState";
import { StatusBadge } from "../ui/status";
import { formatDuration, formatTime, liveDuration } from "../ui/format";
import { useNow } from "../ui/useNow";
import { PluginSlot } from "../plugins/PluginSlot";
import { TaskEnvironment } from "./TaskEnvironment";
import { TaskNode, TaskNotices } from "./TaskPlacement";
import { StatusWhy } from "../triage/StatusWhy";
import { attemptTiming, timingText } from "../triage/timing";
import { useStatusExplanation } from "../api/triage";

/** Queued vs running: from the task's status explanation (the same request as its why?); of the
 * attempt shown when the task was retried (an earlier attempt's own, not the whole task's). */
function TaskTiming({ task, attempt, now }: { task: Task; attempt: number | null; now: number }) {
  const why = useStatusExplanation(task.flow_id, task.run_id, { step: task.step_name, id: task.task_id }, true);
  const t = why.data?.timing;
  if (!t) return null;
  const retried = (task.attempts ?? []).length > 1;
  return (
    <div data-testid="task-timing" title={retried
      ? "Of this attempt. Queued: from when it could start (attempt 0: its last parent's finish, or the run's start; a retry: the previous attempt's finish) to its start. Running: its start to its finish."
      : "Queued: from when it could start (its last parent's finish, or the run's start) to its start. Running: its start to its finish."}>
      <dt>queued / running</dt><dd className="num">{timingText(attemptTiming(t, task.attempts ?? [], attempt), now)}</dd>
    </div>
  );
}

function decoratorText(d: Decorator): string {
  const attrs = Object.entries(d.attributes ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
  return `@${d.name}${attrs ? `(${attrs})` : ""}`;
}

export function TaskInfo({ task, attempt, step, onAttempt }: {
  task: Task; attempt: Attempt | null; step: Step | undefined; onAttempt: (a: number) => void;
}) {
  const a = attempt;
  const status = a?.status ?? task.status;
  const now = useNow(status === "running");
  const attempts = task.attempts ?? [];
  const started = a?.started_at ?? task.started_at;
  const finished = a ? a.finished_at : task.finished_at;
  // Not running yet no finish recorded (its heartbeat was lost): it ran until its last heartbeat,
  // which is the task's (its latest attempt's); an earlier attempt's end is unknown.
  const stopped = status === "running" || status === "pending" ? undefined
    : { at: !a || a.attempt === task.attempt ? task.heartbeat_at : null };
  return (
    <div className="task-head" data-testid="task-info">
      <div className="run-title">
        <h1 className="page-title mono">{task.step_name}/{task.task_id}</h1>
        <StatusBadge status={status} reason={a?.status_reason ?? task.status_reason} />
        <StatusWhy flow={task.flow_id} run={task.run_id} task={{ step: task.step_name, id: task.task_id }} />
        {(a?.status_reason ?? task.status_reason) && (
          <span className={`run-reason ${status === "failed" ? "failed" : ""}`}>{a?.status_reason ?? task.status_reason}</span>
        )}
        {attempts.length > 1 && (
          <span className="seg" role="group" aria-label="Attempt" style={{ marginLeft: "auto" }}>
            {attempts.map((x) => (
              <button key={x.attempt} type="button" aria-pressed={x.attempt === a?.attempt} onClick={() => onAttempt(x.attempt)}
                title={`attempt ${x.attempt}: ${x.status}`} data-attempt={x.attempt}>
                <span className={`badge status-${x.status}`} style={{ padding: 0, background: "none", height: "auto" }}><span className="dot" /></span>
                {" "}attempt {x.attempt}
              </button>
            ))}
          </span>
        )}
      </div>
      <dl className="kv">
        <div><dt>started</dt><dd className="num">{formatTime(started)}</dd></div>
        <div><dt>finished</dt><dd className="num">{finished ? formatTime(finished) : status === "running" ? "running…" : "—"}</dd></div>
        <div><dt>duration</dt><dd className="num">{formatDuration(liveDuration(started, finished, now, stopped) ?? a?.duration_ms ?? task.duration_ms)}</dd></div>
        <TaskTiming task={task} attempt={a?.attempt ?? null} now={now} />
        {task.foreach_value !== null && task.foreach_value !== undefined && (
          <div><dt>foreach</dt><dd className="mono">[{task.foreach_index}] {task.foreach_value}</dd></div>
        )}
        {(task.parent_task_ids ?? []).length > 0 && (
          <div><dt>parents</dt><dd style={{ display: "flex", gap: 6 }}>
            {(task.parent_task_ids ?? []).slice(0, 8).map((p) => {
              const [step, id] = p.split("/");
              return <Link key={p} className="mono" to={formatPath({ flow: task.flow_id, run: task.run_id, step, task: id })}>{p}</Link>;
            })}
            {(task.parent_task_ids ?? []).length > 8 && <span className="muted">+{(task.parent_task_ids ?? []).length - 8}</span>}
          </dd></div>
        )}
        {a?.exit_code !== null && a?.exit_code !== undefined && <div><dt>exit code</dt><dd className="mono">{a.exit_code}</dd></div>}
        <TaskNode task={task} attempt={a?.attempt ?? task.attempt} />
        {task.cloned_from && <div><dt>cloned from</dt><dd className="mono">{task.cloned_from}</dd></div>}
        {/* Decorators (with @resources) are declared on the step: the DAG has them. */}
        {(step?.decorators ?? []).length > 0 && (
          <div><dt>decorators</dt><dd className="mono">{(step?.decorators ?? []).map(decoratorText).join(" ")}</dd></div>
        )}
        <TaskEnvironment task={task} />
        {step?.doc && <div><dt>step</dt><dd className="muted" title={step.doc}>{step.doc.split("\n")[0]}</dd></div>}
      </dl>
      <TaskNotices task={task} />
      <PluginSlot name="task-details" context={{ task }} />
      {a?.traceback ? (
        <pre className="traceback" data-testid="traceback">{a.traceback}</pre>
      ) : a?.exception_type ? (
        <pre className="traceback">{a.exception_type}: {a.exception_message}</pre>
      ) : null}
    </div>
  );
}
