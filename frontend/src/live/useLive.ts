import { useEffect, useRef, useSyncExternalStore } from "react";
import type { FeedName } from "../api/types";
import { liveSocket, type ConnectionState, type LiveEvent } from "./socket";

export function useConnectionState(): ConnectionState {
  const socket = liveSocket();
  return useSyncExternalStore(socket.onState, socket.getState);
}

/**
 * Subscribes to a resource while mounted. The handler may change every render; the subscription
 * only changes with the resource (or `since` becoming known), so events are never dropped in between.
 */
export function useLiveResource<F extends FeedName>(
  _feed: F,
  resource: string | null,
  since: number | null,
  handler: (event: LiveEvent<F>) => void,
): void {
  const ref = useRef(handler);
  ref.current = handler;
  const ready = resource !== null;
  useEffect(() => {
    if (!ready || resource === null) return;
    // `_feed` (typing only) names the feed the server serves for this path (x-live-feed in the OpenAPI document).
    return liveSocket().subscribe(resource, since, (e) => ref.current(e as LiveEvent<F>));
    // `since` is only read when subscribing; later seqs are tracked inside the socket.
  }, [resource, ready]);
}

/**
 * After a reconnect, subscriptions replay what they missed (`since`), but derived views (timeline,
 * DAG counts, paged lists) are plain queries: re-ask the ones on screen so the view catches up.
 */
export function useCatchUpOnReconnect(onReconnect: () => void): void {
  const state = useConnectionState();
  const was = useRef(state);
  useEffect(() => {
    if (state === "live" && (was.current === "reconnecting" || was.current === "stale")) onReconnect();
    was.current = state;
  }, [state, onReconnect]);
}
