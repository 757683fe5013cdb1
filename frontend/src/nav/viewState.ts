// The URL holds the whole view state. This module is pure: location parts in, state out, and back.
// Only non-default values are written, so links stay short and a default view has a clean URL.

import type { Status } from "../api/types";

export interface PathParts {
  flow: string | null;
  run: string | null;
  step: string | null;
  task: string | null;
}

export type RunSortKey = "flow" | "run" | "user" | "started" | "finished" | "duration" | "status" | "created";
export type RangePreset = "1h" | "24h" | "7d" | "30d" | "custom";

export interface RunListFilters {
  status: Status[];
  flow: string | null;
  user: string | null;
  tags: string[];
  range: RangePreset | null;
  from: number | null;
  to: number | null;
  group: "none" | "flow" | "user";
  sort: RunSortKey;
  dir: "asc" | "desc";
}

export interface TimelineParams {
  sort: "start" | "end" | "duration";
  /** dense: every task squeezed into the visible lanes (the backend aggregates; level of detail). */
  group: "step" | "flat" | "dense" | "host";
  status: Status[];
  steps: string[];
  /** Visible window in epoch ms; null means "fit the whole run". */
  window: [number, number] | null;
  /** Highlight the critical path (`cp=1`). */
  criticalPath: boolean;
}

export type RunTab = "timeline" | "dag" | "search" | "triage";
export type TaskPanel = "logs" | "artifacts" | "metadata" | "cards";
export type LogStream = "stdout" | "stderr";

export interface TaskParams {
  attempt: number | null;
  stream: LogStream;
  panel: TaskPanel;
  timestamps: boolean;
  wrap: boolean;
  /** Selected log lines from `#L120` / `#L120-140`, 1-based and inclusive. */
  lines: [number, number] | null;
}

export interface ViewState {
  path: PathParts;
  runs: RunListFilters;
  tab: RunTab;
  timeline: TimelineParams;
  task: TaskParams;
  /** Run-wide log search query (tab=search). */
  q: string;
  /** The failure digest group opened on the triage tab (`dg=<signature>`). */
  digestGroup: string | null;
}

const STATUSES: readonly Status[] = ["pending", "running", "completed", "failed"];
const SORT_KEYS: readonly RunSortKey[] = ["flow", "run", "user", "started", "finished", "duration", "status", "created"];
const RANGES: readonly RangePreset[] = ["1h", "24h", "7d", "30d", "custom"];

export const DEFAULT_RUN_FILTERS: RunListFilters = {
  status: [], flow: null, user: null, tags: [], range: null, from: null, to: null,
  group: "none", sort: "created", dir: "desc",
};
export const DEFAULT_TIMELINE: TimelineParams = {
  sort: "start", group: "step", status: [], steps: [], window: null, criticalPath: false,
};
export const DEFAULT_TASK: TaskParams = {
  attempt: null, stream: "stdout", panel: "logs", timestamps: false, wrap: false, lines: null,
};

function oneOf<T extends string>(value: string | null, allowed: readonly T[], fallback: T): T {
  return value !== null && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

function list(params: URLSearchParams, key: string): string[] {
  return params.getAll(key).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
}

function int(value: string | null): number | null {
  if (value === null || !/^-?\d+$/.test(value)) return null;
  return Number(value);
}

export function parsePath(pathname: string): PathParts {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  return { flow: parts[0] ?? null, run: parts[1] ?? null, step: parts[2] ?? null, task: parts[3] ?? null };
}

export function parseLineHash(hash: string): [number, number] | null {
  const m = /^#?L(\d+)(?:-L?(\d+))?$/.exec(hash);
  if (!m) return null;
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  if (a < 1 || b < 1) return null;
  return a <= b ? [a, b] : [b, a];
}

export function formatLineHash(lines: [number, number] | null): string {
  if (!lines) return "";
  return lines[0] === lines[1] ? `#L${lines[0]}` : `#L${lines[0]}-${lines[1]}`;
}

export function parseLocation(pathname: string, search: string, hash = ""): ViewState {
  const path = parsePath(pathname);
  const p = new URLSearchParams(search);
  const statuses = list(p, "status").filter((s): s is Status => STATUSES.includes(s as Status));
  const range = p.get("range");
  const runs: RunListFilters = {
    status: path.run ? [] : statuses,
    flow: path.flow ?? p.get("flow"),
    user: p.get("user"),
    tags: list(p, "tag"),
    range: range === null ? null : oneOf(range, RANGES, "24h"),
    from: int(p.get("from")),
    to: int(p.get("to")),
    group: oneOf(p.get("group"), ["none", "flow", "user"] as const, "none"),
    sort: oneOf(p.get("sort"), SORT_KEYS, "created"),
    dir: oneOf(p.get("dir"), ["asc", "desc"] as const, "desc"),
  };
  const ws = int(p.get("ws"));
  const we = int(p.get("we"));
  const timeline: TimelineParams = {
    sort: oneOf(p.get("tsort"), ["start", "end", "duration"] as const, "start"),
    group: oneOf(p.get("tgroup"), ["step", "flat", "dense", "host"] as const, "step"),
    status: path.run ? statuses : [],
    steps: path.step && !path.task ? [path.step] : list(p, "tstep"),
    window: ws !== null && we !== null && we > ws ? [ws, we] : null,
    criticalPath: p.get("cp") === "1",
  };
  const task: TaskParams = {
    attempt: int(p.get("attempt")),
    stream: oneOf(p.get("stream"), ["stdout", "stderr"] as const, "stdout"),
    panel: oneOf(p.get("panel"), ["logs", "artifacts", "metadata", "cards"] as const, "logs"),
    timestamps: p.get("ts") === "1",
    wrap: p.get("wrap") === "1",
    lines: parseLineHash(hash),
  };
  return {
    path,
    runs,
    tab: oneOf(p.get("tab"), ["timeline", "dag", "search", "triage"] as const, "timeline"),
    timeline,
    task,
    q: p.get("q") ?? "",
    digestGroup: p.get("dg"),
  };
}

export function formatPath(path: Partial<PathParts>): string {
  const parts: string[] = [];
  for (const key of ["flow", "run", "step", "task"] as const) {
    const value = path[key];
    if (!value) break;
    parts.push(encodeURIComponent(value));
  }
  return `/${parts.join("/")}`;
}

/** The URL (path + query + hash) for a view state; the inverse of parseLocation. */
export function formatLocation(state: ViewState): string {
  const { path } = state;
  const q = new URLSearchParams();
  if (!path.run) {
    const f = state.runs;
    if (f.status.length) q.set("status", f.status.join(","));
    if (f.flow && !path.flow) q.set("flow", f.flow);
    if (f.user) q.set("user", f.user);
    for (const tag of f.tags) q.append("tag", tag);
    if (f.range) q.set("range", f.range);
    if (f.range === "custom" && f.from !== null) q.set("from", String(f.from));
    if (f.range === "custom" && f.to !== null) q.set("to", String(f.to));
    if (f.group !== "none") q.set("group", f.group);
    if (f.sort !== "created") q.set("sort", f.sort);
    if (f.dir !== "desc") q.set("dir", f.dir);
  } else if (!path.task) {
    const t = state.timeline;
    if (state.tab !== "timeline") q.set("tab", state.tab);
    if (t.status.length) q.set("status", t.status.join(","));
    const fromPath = path.step ? [path.step] : [];
    if (t.steps.join(",") !== fromPath.join(",")) {
      for (const s of t.steps) q.append("tstep", s);
    }
    if (t.sort !== "start") q.set("tsort", t.sort);
    if (t.group !== "step") q.set("tgroup", t.group);
    if (t.window) {
      q.set("ws", String(Math.round(t.window[0])));
      q.set("we", String(Math.round(t.window[1])));
    }
    if (t.criticalPath) q.set("cp", "1");
    if (state.tab === "search" && state.q) q.set("q", state.q);
    if (state.tab === "triage" && state.digestGroup) q.set("dg", state.digestGroup);
  } else {
    const k = state.task;
    if (k.attempt !== null) q.set("attempt", String(k.attempt));
    if (k.panel !== "logs") q.set("panel", k.panel);
    if (k.stream !== "stdout") q.set("stream", k.stream);
    if (k.timestamps) q.set("ts", "1");
    if (k.wrap) q.set("wrap", "1");
  }
  const qs = q.toString().replace(/%2C/g, ",");
  const hash = path.task ? formatLineHash(state.task.lines) : "";
  return `${formatPath(path)}${qs ? `?${qs}` : ""}${hash}`;
}

// Metaflow's client objects as a notebook prints them: Run('Flow/12'), Task("Flow/12/train/345"),
// DataArtifact('Flow/12/train/345/model').
const CLIENT_REPR = /^[A-Za-z]+\(\s*(['"])(.*)\1\s*\)$/;

/** The segments of a typed or pasted pathspec (and, for a pasted Flowscope URL, its query and hash). */
function pastedSegments(input: string): { parts: string[]; rest: string } | null {
  let text = input.trim();
  text = CLIENT_REPR.exec(text)?.[2]?.trim() ?? text;
  let rest = "";
  const urlMatch = /^https?:\/\/[^/]+(\/[^?#]*)([?#].*)?$/.exec(text);
  if (urlMatch?.[1]) {
    text = decodeURIComponent(urlMatch[1]);
    rest = urlMatch[2] ?? "";
  }
  const parts = text.split("/").map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0 || parts.some((s) => /\s/.test(s))) return null;
  return { parts, rest };
}

/** A pathspec typed or pasted by the user: `Flow/12/train/345`, tolerating slashes, spaces, a full
 * URL and Metaflow's printed client objects (`Run('Flow/12')`). */
export function parsePathspec(input: string): PathParts | null {
  const p = pastedSegments(input);
  if (!p || p.parts.length > 4) return null;
  const [flow = null, run = null, step = null, task = null] = p.parts;
  return { flow, run, step, task };
}

/** Where the go-to box takes a typed or pasted pathspec: its page; an artifact's pathspec
 * (`Flow/12/train/345/model`, Metaflow's DataArtifact) opens that artifact on its task's page; a
 * pasted Flowscope URL keeps its query and hash (the tab, the attempt, the log lines). */
export function goToLocation(input: string): string | null {
  const p = pastedSegments(input);
  if (!p || p.parts.length > 5) return null;
  const [flow = null, run = null, step = null, task = null, artifact] = p.parts;
  const path = formatPath({ flow, run, step, task });
  if (artifact !== undefined) return `${path}?panel=artifacts&artifact=${encodeURIComponent(artifact)}`;
  return path + p.rest;
}

/** Time range presets resolved against `now` into created_after / created_before. */
export function resolveRange(f: RunListFilters, now: number): { after: number | null; before: number | null } {
  const hour = 3_600_000;
  switch (f.range) {
    case "1h": return { after: now - hour, before: null };
    case "24h": return { after: now - 24 * hour, before: null };
    case "7d": return { after: now - 7 * 24 * hour, before: null };
    case "30d": return { after: now - 30 * 24 * hour, before: null };
    case "custom": return { after: f.from, before: f.to };
    default: return { after: null, before: null };
  }
}
