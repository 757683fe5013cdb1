import { useSyncExternalStore } from "react";
import { serverNow } from "../live/serverClock";

// One shared clock for every ticking duration, so a list of 100 running runs costs one timer.
// It reads the server's time (live/serverClock.ts): what it is compared with — a run's start, its
// last heartbeat — is stamped by the server, so a browser clock 5 minutes ahead must not make a
// run "running 5m" or a watched run "stalling".
let now = serverNow();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!timer) now = serverNow();   // not the time the last ticking view was closed
  timer ??= setInterval(() => {
    now = serverNow();
    for (const l of listeners) l();
  }, 1000);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/** The server's current time, re-rendering every second while `enabled` (pass false for finished things). */
export function useNow(enabled = true): number {
  return useSyncExternalStore(enabled ? subscribe : noop, () => (enabled ? now : 0)) || serverNow();
}

const noop = (): (() => void) => () => undefined;
