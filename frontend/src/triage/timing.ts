// Queued vs running time of one task (the `timing` of its status explanation, docs/triage.md):
// words for the task page and the timeline's tooltip.
import type { Attempt, StatusExplanation } from "../api/types";
import { formatDuration } from "../ui/format";

export type TaskTiming = NonNullable<StatusExplanation["timing"]>;
/** A timing; `ended`: it stopped without a recorded finish (an earlier attempt), so it does not grow. */
export type ShownTiming = TaskTiming & { ended?: boolean };

/** The timing of one attempt of a retried task, from the task's: the server's timing spans the whole
 * task (ready → first attempt's start → last attempt's finish). Attempt 0 is queued from when the
 * task could start; a later attempt from the previous attempt's finish (the retry's wait); each runs
 * from its own start to its own finish (the latest, when its heartbeat was lost, to the task's last
 * heartbeat, as the server counts it). A task with one attempt keeps the server's figures. */
export function attemptTiming(t: TaskTiming, attempts: readonly Attempt[], attempt: number | null): ShownTiming {
  if (attempts.length < 2 || attempt === null) return t;
  const i = attempts.findIndex((a) => a.attempt === attempt);
  const a = attempts[i];
  if (!a) return t;
  const latest = i === attempts.length - 1;
  const ready = i === 0 ? t.ready_at : attempts[i - 1]?.finished_at ?? null;
  const started = a.started_at, finished = a.finished_at;
  let running: number | null = null;
  if (started !== null && finished !== null) running = Math.max(0, finished - started);
  else if (started !== null && latest && t.finished_at === null && t.running_ms !== null && t.started_at !== null) {
    running = Math.max(0, t.started_at + t.running_ms - started); // heartbeat lost: until the last one
  }
  return {
    ready_at: ready, started_at: started, finished_at: finished,
    queued_ms: started !== null && ready !== null ? Math.max(0, started - ready) : null,
    running_ms: running,
    ended: !latest && finished === null,
  };
}

/** "queued 1.2s · running 3.4s"; a running task's running time (or a ready task's wait) so far;
 * a task whose heartbeat was lost: its running time until the last heartbeat (the server's);
 * "queued ?" while a parent has not finished (its ready time is unknown). */
export function timingText(t: ShownTiming, now: number): string {
  let queued: string;
  if (t.queued_ms !== null) queued = `queued ${formatDuration(t.queued_ms)}`;
  else if (t.started_at === null && t.ready_at !== null) queued = `queued ${formatDuration(now - t.ready_at)} so far`;
  else queued = "queued ?";
  let running: string;
  if (t.running_ms !== null && t.finished_at === null && t.started_at !== null) {
    // no finish recorded but a running time: its heartbeat was lost; it ran until the last one
    running = `running ${formatDuration(t.running_ms)} until its heartbeat stopped`;
  } else if (t.running_ms !== null) running = `running ${formatDuration(t.running_ms)}`;
  else if (t.ended) running = "running ?"; // an earlier attempt that stopped without a recorded finish
  else if (t.started_at !== null) running = `running ${formatDuration(now - t.started_at)} so far`;
  else running = "not started";
  return `${queued} · ${running}`;
}
