// A running run (or task) whose writer dies — kill -9, a lost machine, a Metaflow task killed with
// its runner — stops heartbeating and the server turns it "failed (heartbeat lost)" at read time,
// without any write: no websocket event announces it. A view showing such a run would say
// "Running" forever (its duration growing) until reloaded. So a view re-asks its data while a
// running item's last heartbeat is older than RECHECK_AFTER_MS, at most every RECHECK_EVERY_MS,
// until the server says it is lost (or a heartbeat event shows it alive). A live run's heartbeats
// arrive as update events, so a healthy view never re-asks.
import { useEffect, useMemo, useRef } from "react";

/** More than two heartbeat intervals (core_runtime beats every 5 s, Metaflow every 10 s). */
export const RECHECK_AFTER_MS = 20_000;
/** Between two re-asks of the same view while one of its running items stays silent. */
export const RECHECK_EVERY_MS = 10_000;

export interface Beating {
  status: string;
  heartbeat_at: number | null;
  started_at?: number | null;
  created_at?: number | null;
}

/** Milliseconds until the view should re-ask its data (0: now), or null when nothing shown runs.
 * `fetchedAt`: when the data was last asked, so a silent item is re-asked every RECHECK_EVERY_MS. */
export function recheckDelay(items: Iterable<Beating>, now: number, fetchedAt: number): number | null {
  let due: number | null = null;
  for (const it of items) {
    if (it.status !== "running") continue;
    const last = it.heartbeat_at ?? it.started_at ?? it.created_at ?? null;
    if (last === null) continue;
    const at = last + RECHECK_AFTER_MS;
    if (due === null || at < due) due = at;
  }
  if (due === null) return null;
  return Math.max(0, due - now, fetchedAt + RECHECK_EVERY_MS - now);
}

/** Calls `refetch` when a running item of `items` has been silent long enough (see above). */
export function useHeartbeatRecheck(items: readonly Beating[] | undefined, fetchedAt: number, refetch: () => unknown): void {
  const again = useRef(refetch);
  again.current = refetch;
  // Only what the delay depends on: a new list object with the same beats keeps the timer.
  const beats = useMemo(() => (items ?? []).filter((i) => i.status === "running")
    .map((i) => i.heartbeat_at ?? i.started_at ?? i.created_at ?? 0).join(","), [items]);
  useEffect(() => {
    if (!beats) return;
    const delay = recheckDelay(items ?? [], Date.now(), fetchedAt);
    if (delay === null) return;
    const t = setTimeout(() => void again.current(), delay);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `beats` stands for `items`
  }, [beats, fetchedAt]);
}
