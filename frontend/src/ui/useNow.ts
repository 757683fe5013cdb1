import { useSyncExternalStore } from "react";

// One shared clock for every ticking duration, so a list of 100 running runs costs one timer.
let now = Date.now();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  timer ??= setInterval(() => {
    now = Date.now();
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

/** The current time, re-rendering every second while `enabled` (pass false for finished things). */
export function useNow(enabled = true): number {
  return useSyncExternalStore(enabled ? subscribe : noop, () => (enabled ? now : 0)) || Date.now();
}

const noop = (): (() => void) => () => undefined;
