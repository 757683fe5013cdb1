// API paths of runs, tasks and logs. Dependency-free (only client.ts), so the early-request entry
// (src/early.ts) builds exactly the URLs the app asks for without loading the app.
import { apiUrl, seg } from "./client";

export interface TaskRef {
  flow: string;
  run: string;
  step: string;
  task: string;
}

export type Stream = "stdout" | "stderr";

export const runPath = (flow: string, run: string): string => `/flows/${seg(flow)}/runs/${seg(run)}`;

/** The run page's first request: the run with the DAG its first paint draws (the timeline's and
 * the DAG tab's), in one answer (docs/api.md, "The run page in one request"). */
export const runPageUrl = (flow: string, run: string): string => apiUrl(runPath(flow, run), { include: "dag" });

export const taskPath = (t: TaskRef): string =>
  `/flows/${seg(t.flow)}/runs/${seg(t.run)}/steps/${seg(t.step)}/tasks/${seg(t.task)}`;

export const logPath = (t: TaskRef, stream: Stream): string => `${taskPath(t)}/logs/${stream}`;

/** One page of a log: `from_line`/`limit` or `tail`; attempt null is the task's latest. */
export function logPageUrl(t: TaskRef, stream: Stream, attempt: number | null,
  q: { from_line?: number; limit?: number; tail?: number }): string {
  return apiUrl(logPath(t, stream), { attempt, ...q });
}
