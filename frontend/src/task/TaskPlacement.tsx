import { useMetadata, type TaskRef } from "../api/task";
import type { Task } from "../api/types";
import { noticesOf, placementOf, resourcesText } from "./taskPlacement";

const refOf = (t: Task): TaskRef => ({ flow: t.flow_id, run: t.run_id, step: t.step_name, task: t.task_id });

/** The "node" row of the task head: host, Ray node id and assigned resources of the shown attempt. */
export function TaskNode({ task, attempt }: { task: Task; attempt: number }) {
  const meta = useMetadata(refOf(task), true);
  const p = placementOf(meta.data ?? [], attempt);
  if (!p) return null;
  const res = resourcesText(p.resources);
  return (
    <div data-testid="task-node"><dt>node</dt><dd className="mono" title={p.nodeId ?? undefined}>
      {p.host ?? "?"}{p.executor === "ray" ? ` · ray ${(p.nodeId ?? "").slice(0, 12)}` : p.executor ? ` · ${p.executor}` : ""}
      {res && <span className="muted"> · {res}</span>}
    </dd></div>
  );
}

/** Notices the runtime recorded on the task (e.g. a @kubernetes step that ran locally). */
export function TaskNotices({ task }: { task: Task }) {
  const meta = useMetadata(refOf(task), true);
  const notices = noticesOf(meta.data ?? []);
  if (notices.length === 0) return null;
  return (
    <div className="task-notices" data-testid="task-notices">
      {notices.map((n) => <p key={n} className="notice" role="note">{n}</p>)}
    </div>
  );
}
