// Queued vs running time of one task (the `timing` of its status explanation, docs/triage.md):
// words for the task page and the timeline's tooltip.
import type { StatusExplanation } from "../api/types";
import { formatDuration } from "../ui/format";

export type TaskTiming = NonNullable<StatusExplanation["timing"]>;

/** "queued 1.2s · running 3.4s"; a running task's running time (or a ready task's wait) so far;
 * a task whose heartbeat was lost: its running time until the last heartbeat (the server's);
 * "queued ?" while a parent has not finished (its ready time is unknown). */
export function timingText(t: TaskTiming, now: number): string {
  let queued: string;
  if (t.queued_ms !== null) queued = `queued ${formatDuration(t.queued_ms)}`;
  else if (t.started_at === null && t.ready_at !== null) queued = `queued ${formatDuration(now - t.ready_at)} so far`;
  else queued = "queued ?";
  let running: string;
  if (t.running_ms !== null && t.finished_at === null && t.started_at !== null) {
    // no finish recorded but a running time: its heartbeat was lost; it ran until the last one
    running = `running ${formatDuration(t.running_ms)} until its heartbeat stopped`;
  } else if (t.running_ms !== null) running = `running ${formatDuration(t.running_ms)}`;
  else if (t.started_at !== null) running = `running ${formatDuration(now - t.started_at)} so far`;
  else running = "not started";
  return `${queued} · ${running}`;
}
