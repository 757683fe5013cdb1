import type { Run } from "../api/types";

/**
 * Running: up to now. Finished: the server's duration. A run that died without finishing (heartbeat
 * lost) ends at its last heartbeat, not now, or its duration would grow forever.
 */
export function runDuration(run: Pick<Run, "status" | "started_at" | "created_at" | "finished_at" | "heartbeat_at" | "duration_ms">, now: number): number | null {
  const start = run.started_at ?? run.created_at;
  if (!start) return null;
  if (run.status === "running") return now - start;
  if (run.duration_ms !== null && run.duration_ms !== undefined) return run.duration_ms;
  const end = run.finished_at ?? run.heartbeat_at ?? null;
  return end === null ? null : end - start;
}

/** Where a run's time axis ends: now while it runs, its finish, else (heartbeat lost, no finish
 * recorded) its last heartbeat, so a run killed last week is not drawn a week long. */
export function runEnd(run: Pick<Run, "status" | "finished_at" | "heartbeat_at">, now: number): number {
  if (run.status === "running") return now;
  return run.finished_at ?? run.heartbeat_at ?? now;
}
