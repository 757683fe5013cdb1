// A running run (or task) whose writer dies — kill -9, a lost machine, a Metaflow task killed with
// its runner — stops heartbeating and the server turns it "failed (heartbeat lost)" at read time,
// once its last heartbeat is older than FLOWSCOPE_HEARTBEAT_TIMEOUT, without any write: no
// websocket event announces it. A view showing such a run would say "Running" forever (its
// duration growing) until reloaded. So a view re-asks its data once a running item's last
// heartbeat is older than the server's timeout (learnt from /api/-/version, measured on the
// server's clock: serverClock.ts), then at most every recheckEveryMs(timeout) while the server
// still calls it running. A live run's heartbeats arrive as update events, so a healthy view
// never re-asks, whatever the browser's clock says.
import { useEffect, useMemo, useRef } from "react";
import { useQuery } from "@tanstack/react-query";
import { apiUrl, getJson } from "../api/client";
import type { components } from "../api/schema.gen";
import { serverNow } from "./serverClock";

/** FLOWSCOPE_HEARTBEAT_TIMEOUT's default: used only when the server's answer cannot be had. */
export const DEFAULT_TIMEOUT_MS = 60_000;
/** After the timeout, before the first re-ask: the server's clock is read to the second. */
export const RECHECK_MARGIN_MS = 1_000;

/** The silence after which a view re-asks: just past the server's heartbeat timeout. */
export function recheckAfterMs(timeoutMs: number): number {
  return timeoutMs + RECHECK_MARGIN_MS;
}

/** Between two re-asks of the same view while one of its running items stays silent: half the
 * timeout, within 1-10 s. */
export function recheckEveryMs(timeoutMs: number): number {
  return Math.min(10_000, Math.max(1_000, Math.round(timeoutMs / 2)));
}

export interface Beating {
  status: string;
  heartbeat_at: number | null;
  started_at?: number | null;
  created_at?: number | null;
}

export interface Clocks {
  /** The server's time now (epoch ms): what heartbeat_at is compared with. */
  server: number;
  /** The browser's time now: what `fetchedAt` (the query's dataUpdatedAt) is compared with. */
  local: number;
}

/** Milliseconds until the view should re-ask its data (0: now), or null when nothing shown runs.
 * `fetchedAt`: when the data was last asked (browser clock), so a silent item is re-asked every
 * recheckEveryMs. `timeoutMs`: the server's FLOWSCOPE_HEARTBEAT_TIMEOUT. */
export function recheckDelay(items: Iterable<Beating>, now: Clocks, fetchedAt: number, timeoutMs: number): number | null {
  let due: number | null = null;
  for (const it of items) {
    if (it.status !== "running") continue;
    const last = it.heartbeat_at ?? it.started_at ?? it.created_at ?? null;
    if (last === null) continue;
    const at = last + recheckAfterMs(timeoutMs);
    if (due === null || at < due) due = at;
  }
  if (due === null) return null;
  return Math.max(0, due - now.server, fetchedAt + recheckEveryMs(timeoutMs) - now.local);
}

type Version = components["schemas"]["Version"];

/** The server's heartbeat timeout in ms (null until known; the default if it cannot be asked). */
export function useHeartbeatTimeoutMs(): number | null {
  const q = useQuery({
    queryKey: ["-", "version"],
    queryFn: ({ signal }) => getJson<{ data: Version }>(apiUrl("/-/version"), signal).then((r) => r.data),
    staleTime: Infinity,
    retry: 2,
  });
  if (q.data) return q.data.heartbeat_timeout_s * 1000;
  return q.isError ? DEFAULT_TIMEOUT_MS : null;
}

/** Calls `refetch` when a running item of `items` has been silent long enough (see above). */
export function useHeartbeatRecheck(items: readonly Beating[] | undefined, fetchedAt: number, refetch: () => unknown): void {
  const again = useRef(refetch);
  again.current = refetch;
  const timeoutMs = useHeartbeatTimeoutMs();
  // Only what the delay depends on: a new list object with the same beats keeps the timer.
  const beats = useMemo(() => (items ?? []).filter((i) => i.status === "running")
    .map((i) => i.heartbeat_at ?? i.started_at ?? i.created_at ?? 0).join(","), [items]);
  useEffect(() => {
    if (!beats || timeoutMs === null) return;
    const local = Date.now();
    const delay = recheckDelay(items ?? [], { server: serverNow(local), local }, fetchedAt, timeoutMs);
    if (delay === null) return;
    const t = setTimeout(() => void again.current(), delay);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `beats` stands for `items`
  }, [beats, fetchedAt, timeoutMs]);
}
