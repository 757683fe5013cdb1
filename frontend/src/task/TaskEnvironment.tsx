import { useMetadata } from "../api/task";
import type { Task } from "../api/types";
import { environmentOf } from "./taskEnvironment";

/** The "environment" row of the task head: the @pypi/@conda environment the task ran in. Its
 * notices (e.g. @conda installed from the package index) are metadata of type "notice". */
export function TaskEnvironment({ task }: { task: Task }) {
  const meta = useMetadata({ flow: task.flow_id, run: task.run_id, step: task.step_name, task: task.task_id }, true);
  const env = environmentOf(meta.data ?? []);
  if (!env) return null;
  return <div data-testid="task-environment"><dt>environment</dt><dd className="mono">{env}</dd></div>;
}
