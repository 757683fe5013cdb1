// Pure geometry of the timeline: time ⇄ pixels, zoom and pan, the visual rows (step headers and
// task lanes), and the rectangles to draw for a level-of-detail response. No DOM, unit-tested.

import type { Status, Timeline, TimelineGroup, TimelineLane } from "../api/types";

export type Window = [number, number];

export const MIN_SPAN_MS = 20;

export function xOf(t: number, win: Window, width: number): number {
  return ((t - win[0]) / (win[1] - win[0])) * width;
}

export function tOf(x: number, win: Window, width: number): number {
  return win[0] + (x / width) * (win[1] - win[0]);
}

/** The run's extent with a little air on both sides, so the first and last bars are not glued to the edges. */
export function fitWindow(runStart: number, runEnd: number): Window {
  const span = Math.max(runEnd - runStart, 100);
  const pad = span * 0.02;
  return [runStart - pad, runStart + span + pad];
}

/** Zoom by `factor` (< 1 zooms in) keeping the time under the cursor fixed; clamped to `bounds`. */
export function zoomAt(win: Window, anchor: number, factor: number, bounds: Window): Window {
  const span = win[1] - win[0];
  const maxSpan = bounds[1] - bounds[0];
  const next = Math.min(maxSpan, Math.max(MIN_SPAN_MS, span * factor));
  const ratio = (anchor - win[0]) / span;
  const start = anchor - ratio * next;
  return clampWindow([start, start + next], bounds);
}

export function panBy(win: Window, deltaMs: number, bounds: Window): Window {
  return clampWindow([win[0] + deltaMs, win[1] + deltaMs], bounds);
}

export function clampWindow(win: Window, bounds: Window): Window {
  const span = Math.min(win[1] - win[0], bounds[1] - bounds[0]);
  let start = win[0];
  if (start < bounds[0]) start = bounds[0];
  if (start + span > bounds[1]) start = bounds[1] - span;
  return [start, start + span];
}

/** Grid lines at a "nice" step (1/2/5 × 10^k ms) giving roughly one line every `minPx` pixels. */
export function tickStep(win: Window, width: number, minPx = 90): number {
  const raw = ((win[1] - win[0]) / Math.max(width, 1)) * minPx;
  const nice = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map((s) => s * 1000);
  if (raw < 1000) {
    const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-3)));
    for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  }
  for (const n of nice) if (n >= raw) return n;
  return Math.ceil(raw / 86_400_000) * 86_400_000;
}

/** Tick times in the window, at whole steps from `origin` (the run's start), so labels read +0, +20ms, … */
export function ticks(win: Window, width: number, origin = 0): number[] {
  const step = tickStep(win, width);
  const out: number[] = [];
  for (let t = origin + Math.ceil((win[0] - origin) / step) * step; t <= win[1]; t += step) out.push(t);
  return out;
}

// ---- rows ----

export type VisualRow =
  | { kind: "header"; step: string; count: number; collapsed: boolean; recursive?: boolean }
  | { kind: "lane"; step: string | null; row: number };

/**
 * The visual rows without materializing them: in step grouping, a header row per step followed by
 * its lanes (none when collapsed); flat, just the lanes. A 100,000-task run has 100,000 rows, so
 * the model is a handful of group offsets and rows are computed on demand (O(log steps)), never an
 * array rebuilt on each answer or zoom step. Lanes are referenced by their server row index, so
 * data can be paged in.
 */
export interface RowModel {
  readonly length: number;
  /** The visual row at index i (undefined out of range). */
  at(i: number): VisualRow | undefined;
  /** The visual index of a server row, or -1 when it is hidden (collapsed step) or unknown. */
  vrowOf(row: number): number;
}

interface GroupSpan {
  step: string;
  /** Visual index of the header. */
  at: number;
  header: VisualRow;
  rowStart: number;
  rowCount: number;
  collapsed: boolean;
}

/** A group header's text: its step, or with rows grouped by host, the host. */
export function groupLabel(g: Pick<TimelineGroup, "step_name" | "host">): string {
  return g.step_name ?? g.host ?? "no host recorded";
}

/** What the row model needs of a timeline group (`recursive` only marks the header). */
export type GroupInput = Pick<TimelineGroup, "step_name" | "host" | "row_start" | "row_count"> & { recursive?: boolean };

export function rowModel(groups: GroupInput[], grouped: boolean, collapsed: ReadonlySet<string>, totalRows: number): RowModel {
  if (!grouped || groups.length === 0) {
    const n = Math.max(0, totalRows);
    return {
      length: n,
      at: (i) => (i >= 0 && i < n ? { kind: "lane", step: null, row: i } : undefined),
      vrowOf: (row) => (row >= 0 && row < n ? row : -1),
    };
  }
  const spans: GroupSpan[] = [];
  let length = 0;
  for (const g of groups) {
    const label = groupLabel(g);
    const isCollapsed = collapsed.has(label);
    spans.push({ step: label, at: length, rowStart: g.row_start, rowCount: g.row_count, collapsed: isCollapsed,
      header: { kind: "header", step: label, count: g.row_count, collapsed: isCollapsed,
        ...(g.recursive ? { recursive: true } : {}) } });
    length += 1 + (isCollapsed ? 0 : g.row_count);
  }
  // Spans are in visual order; server rows of the groups are in the same order.
  const byVisual = (i: number): GroupSpan => {
    let lo = 0;
    let hi = spans.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (spans[mid]!.at <= i) lo = mid; else hi = mid - 1;
    }
    return spans[lo]!;
  };
  const byRow = (row: number): GroupSpan | undefined => {
    let lo = 0;
    let hi = spans.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (spans[mid]!.rowStart <= row) lo = mid; else hi = mid - 1;
    }
    const s = spans[lo];
    return s && row >= s.rowStart && row < s.rowStart + s.rowCount ? s : undefined;
  };
  return {
    length,
    at: (i) => {
      if (i < 0 || i >= length) return undefined;
      const s = byVisual(i);
      return i === s.at ? s.header : { kind: "lane", step: s.step, row: s.rowStart + (i - s.at - 1) };
    },
    vrowOf: (row) => {
      const s = byRow(row);
      return s && !s.collapsed ? s.at + 1 + (row - s.rowStart) : -1;
    },
  };
}

/** Every visual row as an array (for small runs and tests; the views use rowModel). */
export function visualRows(groups: GroupInput[], grouped: boolean, collapsed: ReadonlySet<string>, totalRows: number): VisualRow[] {
  const m = rowModel(groups, grouped, collapsed, totalRows);
  const rows: VisualRow[] = [];
  for (let i = 0; i < m.length; i++) rows.push(m.at(i)!);
  return rows;
}

export interface LaneRequest {
  rowStart: number;
  rows: number;
}

/** Which server rows to ask for to cover visual rows [first, first+count), padded and quantized so small scrolls reuse the same request. */
export function laneRequest(rows: RowModel, first: number, count: number, quantum = 50): LaneRequest {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = Math.max(0, first); i < Math.min(rows.length, first + count); i++) {
    const r = rows.at(i)!;
    if (r.kind === "lane") {
      lo = Math.min(lo, r.row);
      hi = Math.max(hi, r.row);
    }
  }
  if (lo === Infinity) return { rowStart: 0, rows: quantum };
  const rowStart = Math.floor(lo / quantum) * quantum;
  const end = Math.ceil((hi + 1) / quantum) * quantum;
  return { rowStart, rows: Math.max(quantum, end - rowStart) };
}

/** The request to open with, before any answer says how rows are grouped: the first `visible` rows, quantized. */
export function initialLaneRequest(visible: number, quantum = 50): LaneRequest {
  return { rowStart: 0, rows: Math.max(quantum, Math.ceil(Math.max(1, visible) / quantum) * quantum) };
}

/**
 * Keeps the current request while it still covers the rows needed (and is not much larger), so a
 * first answer that turns out to cover the screen is not asked again with a tighter range.
 */
export function nextLaneRequest(current: LaneRequest, needed: LaneRequest, quantum = 50): LaneRequest {
  const covers = current.rowStart <= needed.rowStart && current.rowStart + current.rows >= needed.rowStart + needed.rows;
  if (covers && current.rows <= needed.rows + quantum) return current;
  return current.rowStart === needed.rowStart && current.rows === needed.rows ? current : needed;
}

// ---- rectangles ----

export interface BarRect {
  x: number;
  w: number;
  /** Visual row index. */
  vrow: number;
  status: Status;
  /** A failed attempt that was retried: drawn hatched. */
  retried: boolean;
  attempt: number;
  /** Tasks this rectangle stands for (1 for a task's bar). */
  count: number;
  start: number;
  end: number | null;
  lane: TimelineLane;
  /** Aggregated segments: tasks per status (the server's fifth element); drawn in proportion. */
  mix?: StatusMix;
}

export type StatusMix = Partial<Record<Status, number>>;

/** The per-status counts of a segment, if the server sent them (older servers send four elements). */
function mixOf(bar: readonly unknown[]): StatusMix | undefined {
  const m = bar[4];
  return m !== null && typeof m === "object" ? (m as StatusMix) : undefined;
}

function addMix(a: StatusMix | undefined, b: StatusMix | undefined): StatusMix | undefined {
  if (!a || !b) return a ?? b;
  const out: StatusMix = { ...a };
  for (const [k, v] of Object.entries(b) as [Status, number][]) out[k] = (out[k] ?? 0) + v;
  return out;
}

/**
 * The colour bands of a segment: the majority status fills the bar, each other status present
 * gets a band on top proportional to its share (at least `minPx`), most alarming on top. So 3
 * failed of 293 reads as a green bar with a thin red mark, not as a red block.
 */
export function mixBands(mix: StatusMix, height: number, minPx = 2): { status: Status; y: number; h: number }[] {
  const entries = (Object.entries(mix) as [Status, number][]).filter(([, n]) => n > 0);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return [];
  const majority = entries.reduce((best, e) => (e[1] > best[1] ? e : best))[0];
  const rank: Record<Status, number> = { failed: 3, running: 2, completed: 1, pending: 0 };
  const others = entries.filter(([s]) => s !== majority).sort((a, b) => rank[b[0]] - rank[a[0]]);
  const bands: { status: Status; y: number; h: number }[] = [{ status: majority, y: 0, h: height }];
  let y = 0;
  for (const [status, n] of others) {
    const h = Math.min(height - y, Math.max(minPx, (height * n) / total));
    if (h <= 0) break;
    bands.push({ status, y, h });
    y += h;
  }
  return bands;
}

/**
 * Rectangles for the visible lanes, in pixels. Bars shorter than a pixel are widened to one so
 * short tasks stay visible; neighbouring rectangles of one lane and status that touch within half
 * a pixel are merged (level of detail: never more rectangles than pixels).
 */
export function barRects(data: Timeline, rows: RowModel, win: Window, width: number, now: number): BarRect[] {
  const out: BarRect[] = [];
  for (const lane of data.lanes) {
    const vrow = rows.vrowOf(lane.row);
    if (vrow < 0) continue;
    const bars = lane.bars ?? lane.segments ?? [];
    const isSegments = !lane.bars;
    let lastAttempt = -1;
    if (lane.bars) for (const b of lane.bars) if (b[3] > lastAttempt) lastAttempt = b[3];
    let prev: BarRect | null = null;
    for (const bar of bars) {
      const [start, end, status, n] = bar;
      const mix = isSegments ? mixOf(bar) : undefined;
      const stop = end ?? now;
      if (stop < win[0] || start > win[1]) continue;
      const x0 = Math.max(-1, xOf(start, win, width));
      const x1 = Math.min(width + 1, xOf(stop, win, width));
      const w = Math.max(1, x1 - x0);
      const retried = !isSegments && status === "failed" && n < lastAttempt;
      if (prev && prev.status === status && !retried && !prev.retried && x0 - (prev.x + prev.w) < 0.5) {
        prev.w = Math.max(prev.w, x0 + w - prev.x);
        prev.count += isSegments ? n : 1;
        prev.mix = addMix(prev.mix, mix);
        prev.end = end === null || prev.end === null ? null : Math.max(prev.end, end);
        continue;
      }
      prev = { x: x0, w, vrow, status, retried, attempt: isSegments ? 0 : n, count: isSegments ? n : 1, start, end, lane, ...(mix ? { mix } : {}) };
      out.push(prev);
    }
  }
  return out;
}

/** The rectangle under a point (rows are `rowHeight` tall, scrolled by `scrollY` pixels). */
export function hitTest(rects: BarRect[], x: number, y: number, rowHeight: number, scrollY: number, slop = 3): BarRect | null {
  const vrow = Math.floor((y + scrollY) / rowHeight);
  let best: BarRect | null = null;
  let bestDist = Infinity;
  for (const r of rects) {
    if (r.vrow !== vrow) continue;
    const d = x < r.x ? r.x - x : x > r.x + r.w ? x - (r.x + r.w) : 0;
    if (d <= slop && d < bestDist) {
      best = r;
      bestDist = d;
    }
  }
  return best;
}

/** A tick's label: time since the run started, as precise as the tick step needs. */
export function formatOffset(ms: number, step: number): string {
  const sign = ms < 0 ? "−" : "+";
  const a = Math.abs(ms);
  if (step < 1000 && a < 1000) return `${sign}${Math.round(a)}ms`;
  if (step < 1000) {
    // As many decimals as the step has (0.25 s steps need two), at most milliseconds.
    let decimals = 1;
    while (decimals < 3 && Math.abs(Math.round(step / 10 ** (3 - decimals)) * 10 ** (3 - decimals) - step) > 1e-6) decimals += 1;
    return `${sign}${(a / 1000).toFixed(decimals)}s`;
  }
  const s = Math.round(a / 1000);
  if (s < 60) return `${sign}${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${sign}${m}m${s % 60 ? ` ${String(s % 60).padStart(2, "0")}s` : ""}`;
  const h = Math.floor(m / 60);
  // Steps under a minute need the seconds, or every tick of a zoomed-in window reads "+2h 19m".
  if (step < 60_000 && s % 60) return `${sign}${h}h ${String(m % 60).padStart(2, "0")}m ${String(s % 60).padStart(2, "0")}s`;
  return `${sign}${h}h${m % 60 ? ` ${String(m % 60).padStart(2, "0")}m` : ""}`;
}

/** A lane's label: task id, foreach value, and which iteration of a loop it is (shown from 1). */
export function laneLabel(t: { task_id: string; step_name: string; foreach_value: string | null; iteration?: number | null },
  withStep: boolean): string {
  const step = withStep ? `${t.step_name}/` : "";
  const value = t.foreach_value !== null && t.foreach_value !== undefined ? `  [${t.foreach_value}]` : "";
  const loop = t.iteration !== null && t.iteration !== undefined ? `  ↻${t.iteration + 1}` : "";
  return `${step}${t.task_id}${loop}${value}`;      // the iteration first: long values get cut
}

/** The row a key moves the keyboard's choice to (ArrowDown/j, ArrowUp/k, PageDown/PageUp by
 * `page` rows, Home, End), kept within 0..length-1; null for any other key or an empty view. */
export function rowForKey(key: string, cursor: number, length: number, page: number): number | null {
  if (length <= 0) return null;
  const step: Record<string, number> = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1, PageDown: Math.max(1, page), PageUp: -Math.max(1, page) };
  let next: number;
  if (key in step) next = cursor + step[key]!;
  else if (key === "Home") next = 0;
  else if (key === "End") next = length - 1;
  else return null;
  return Math.max(0, Math.min(length - 1, next));
}

/** The row scroll (px) that shows visual row `row` whole, moving as little as possible. */
export function scrollToShow(row: number, scrollY: number, viewH: number, rowH: number): number {
  const top = row * rowH;
  if (top < scrollY) return top;
  if (top + rowH > scrollY + viewH) return Math.max(0, top + rowH - viewH);
  return scrollY;
}
