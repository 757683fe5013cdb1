// Watched runs and their alerts, kept in the browser (localStorage) and shared by every component
// through a tiny subscription store. Pure functions (alertFor, titleWith) are unit-tested.
import { useSyncExternalStore } from "react";

export interface WatchAlert {
  pathspec: string;
  kind: "completed" | "failed" | "stalled";
  text: string;
  at: number;
}

interface State {
  watched: string[];
  alerts: WatchAlert[];
}

const KEY = "flowscope.watched";
/** A running run whose last heartbeat is older than this is reported as stalling (the server calls
 * it failed only after FLOWSCOPE_HEARTBEAT_TIMEOUT, 60 s by default). */
export const STALL_MS = 30_000;

function load(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? "[]") as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

let state: State = { watched: typeof localStorage === "undefined" ? [] : load(), alerts: [] };
const listeners = new Set<() => void>();

function set(next: State): void {
  state = next;
  try { localStorage.setItem(KEY, JSON.stringify(state.watched)); } catch { /* private mode: watch for this tab only */ }
  for (const l of listeners) l();
}

export function watch(pathspec: string): void {
  if (!state.watched.includes(pathspec)) set({ ...state, watched: [...state.watched, pathspec] });
}

export function unwatch(pathspec: string): void {
  set({ watched: state.watched.filter((p) => p !== pathspec), alerts: state.alerts.filter((a) => a.pathspec !== pathspec) });
}

export function addAlert(alert: WatchAlert): void {
  set({ ...state, alerts: [...state.alerts.filter((a) => a.pathspec !== alert.pathspec), alert] });
}

export function clearAlerts(): void {
  if (state.alerts.length) set({ ...state, alerts: [] });
}

export function useWatchState(): State {
  return useSyncExternalStore((l) => { listeners.add(l); return () => listeners.delete(l); }, () => state);
}

interface Observed { status: string; status_reason: string | null; heartbeat_at: number | null }

export function isStalled(cur: Observed, now: number): boolean {
  return cur.status === "running" && cur.heartbeat_at !== null && now - cur.heartbeat_at > STALL_MS;
}

/** What changed for a watched run between two observations, if it deserves a notification. */
export function alertFor(pathspec: string, prev: { status: string; stalled: boolean } | null, cur: Observed,
  now: number): WatchAlert | null {
  const stalled = isStalled(cur, now);
  if (prev && prev.status === "running" && cur.status === "completed") {
    return { pathspec, kind: "completed", text: `${pathspec} completed`, at: now };
  }
  if (prev && prev.status === "running" && cur.status === "failed") {
    return { pathspec, kind: "failed", text: `${pathspec} failed${cur.status_reason ? `: ${cur.status_reason}` : ""}`, at: now };
  }
  if (stalled && !(prev?.stalled ?? false)) {
    const s = Math.round((now - (cur.heartbeat_at ?? now)) / 1000);
    return { pathspec, kind: "stalled", text: `${pathspec} is stalling: no heartbeat for ${s} s`, at: now };
  }
  return null;
}

const MARK: Record<WatchAlert["kind"], string> = { completed: "✔", failed: "✖", stalled: "⚠" };

/** The tab title with the newest alert (and how many there are) in front of it. */
export function titleWith(base: string, alerts: readonly WatchAlert[]): string {
  const last = alerts.at(-1);
  if (!last) return base;
  const more = alerts.length > 1 ? ` (+${alerts.length - 1})` : "";
  return `${MARK[last.kind]} ${last.pathspec} ${last.kind}${more} · ${base}`;
}
