// Canvas drawing of the timeline. Everything positional comes from timelineLayout; this file
// only paints. Per frame it touches only the visible rows, reads no styles (the palette is cached
// per theme) and measures no text twice (widths and fitted labels are cached).

import type { Status } from "../api/types";
import { cssVar } from "../shell/theme";
import { formatClock, formatCount, formatDuration } from "../ui/format";
import { formatOffset, mixBands, tickStep, ticks, xOf, type BarRect, type RowModel, type Window } from "./timelineLayout";

export const ROW_H = 20;
export const LABEL_W = 220;
export const AXIS_H = 22;

export interface Palette {
  bg: string; panel: string; grid: string; text: string; muted: string; faint: string; border: string;
  sunken: string; selected: string; barText: string; critical: string; status: Record<Status, string>;
}

export function readPalette(): Palette {
  return {
    bg: cssVar("--bg-panel"), panel: cssVar("--bg-panel"), grid: cssVar("--grid"), text: cssVar("--text"),
    muted: cssVar("--text-muted"), faint: cssVar("--text-faint"), border: cssVar("--border"),
    sunken: cssVar("--bg-sunken"), selected: cssVar("--bg-selected"), barText: cssVar("--bar-text"),
    critical: cssVar("--critical"),
    status: { completed: cssVar("--ok"), failed: cssVar("--fail"), running: cssVar("--run"), pending: cssVar("--pend") },
  };
}

const palettes = new Map<string, Palette>();

/** The palette of the current theme (the `data-theme` attribute), read from CSS once per theme, not once per frame. */
export function themePalette(): Palette {
  const key = document.documentElement.dataset.theme ?? "";
  let p = palettes.get(key);
  if (!p) {
    p = readPalette();
    // Styles not applied yet (empty variables): don't remember that.
    if (!p.status.completed) return p;
    palettes.set(key, p);
  }
  return p;
}

const MONO = "11px ui-monospace, Menlo, Consolas, monospace";
const SANS = "11px system-ui, sans-serif";
const HEADER = "600 11.5px system-ui, sans-serif";

/** Text widths by font and string; bounded (cleared when full), since labels change with the data. */
const widths = new Map<string, number>();
function textWidth(ctx: CanvasRenderingContext2D, font: string, text: string): number {
  const key = `${font}\u0000${text}`;
  let w = widths.get(key);
  if (w === undefined) {
    if (widths.size > 20_000) widths.clear();
    const prev = ctx.font;
    ctx.font = font;
    w = ctx.measureText(text).width;
    ctx.font = prev;
    widths.set(key, w);
  }
  return w;
}

/** `text` cut (with an ellipsis) to fit `max` pixels in `font`; cached through textWidth. */
export function fitText(text: string, max: number, measure: (t: string) => number): string {
  if (measure(text) <= max) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (measure(`${text.slice(0, mid)}…`) <= max) lo = mid; else hi = mid - 1;
  }
  return `${text.slice(0, lo)}…`;
}

const fitted = new Map<string, string>();
function fitLabel(ctx: CanvasRenderingContext2D, font: string, text: string, max: number): string {
  const key = `${font}\u0000${max}\u0000${text}`;
  let f = fitted.get(key);
  if (f === undefined) {
    if (fitted.size > 20_000) fitted.clear();
    f = fitText(text, max, (t) => textWidth(ctx, font, t));
    fitted.set(key, f);
  }
  return f;
}

const hatchCache = new Map<string, CanvasPattern | null>();

/** Diagonal stripes in the failed colour: a retried (earlier, failed) attempt. */
function hatch(ctx: CanvasRenderingContext2D, colour: string): CanvasPattern | string {
  const key = colour;
  if (!hatchCache.has(key)) {
    const c = document.createElement("canvas");
    c.width = c.height = 6;
    const g = c.getContext("2d")!;
    g.strokeStyle = colour;
    g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(0, 6); g.lineTo(6, 0);
    g.moveTo(-1, 1); g.lineTo(1, -1);
    g.moveTo(5, 7); g.lineTo(7, 5);
    g.stroke();
    hatchCache.set(key, ctx.createPattern(c, "repeat"));
  }
  return hatchCache.get(key) ?? colour;
}

export interface DrawInput {
  width: number;
  height: number;
  win: Window;
  rows: RowModel;
  rects: BarRect[];
  scrollY: number;
  labels: Map<number, string>;
  hover: BarRect | null;
  now: number;
  /** The run's start: tick labels are offsets from it. */
  origin: number;
  palette: Palette;
  /** The critical path (toggle on): its tasks' bars are outlined and its spans drawn under the axis. */
  critical?: { keys: Set<string>; spans: [number, number][] } | null;
  /** The row the keyboard has chosen (visual index) while the canvas has focus: shaded and outlined. */
  focusRow?: number | null;
}

export function drawTimeline(ctx: CanvasRenderingContext2D, d: DrawInput): void {
  const { width, height, win, rows, palette: p } = d;
  const plotW = width - LABEL_W;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = p.panel;
  ctx.fillRect(0, 0, width, height);
  ctx.textBaseline = "middle";

  const first = Math.floor(d.scrollY / ROW_H);
  const last = Math.min(rows.length, Math.ceil((d.scrollY + height - AXIS_H) / ROW_H) + 1);

  // Row backgrounds and labels: step headers shaded, lane labels cut to the label column.
  ctx.font = MONO;
  let font = MONO;
  const setFont = (f: string) => { if (font !== f) { ctx.font = f; font = f; } };
  for (let i = first; i < last; i++) {
    const y = AXIS_H + i * ROW_H - d.scrollY;
    const r = rows.at(i)!;
    if (i === d.focusRow) {
      ctx.fillStyle = p.selected;
      ctx.fillRect(0, y, width, ROW_H);
    }
    if (r.kind === "header") {
      ctx.fillStyle = i === d.focusRow ? p.selected : p.sunken;
      ctx.fillRect(0, y, width, ROW_H);
      ctx.fillStyle = p.text;
      setFont(HEADER);
      ctx.fillText(`${r.collapsed ? "▸" : "▾"} ${r.step}${r.recursive ? "  ↻ loop" : ""}`, 8, y + ROW_H / 2);
      ctx.fillStyle = p.faint;
      const count = formatCount(r.count);
      const w = textWidth(ctx, SANS, count);
      setFont(SANS);
      ctx.fillText(count, LABEL_W - 8 - w, y + ROW_H / 2);
    } else {
      const label = d.labels.get(r.row);
      if (!label) continue;
      const text = fitLabel(ctx, MONO, label, LABEL_W - 6 - 20);
      setFont(MONO);
      ctx.fillStyle = p.muted;
      ctx.fillText(text, 20, y + ROW_H / 2);
    }
  }
  setFont(MONO);

  // Grid and axis.
  ctx.save();
  ctx.beginPath();
  ctx.rect(LABEL_W, 0, plotW, height);
  ctx.clip();
  const tickList = ticks(win, plotW, d.origin);
  ctx.strokeStyle = p.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const t of tickList) {
    const x = Math.round(LABEL_W + xOf(t, win, plotW)) + 0.5;
    ctx.moveTo(x, AXIS_H);
    ctx.lineTo(x, height);
  }
  ctx.stroke();

  // Bars.
  for (const r of d.rects) {
    if (r.vrow < first || r.vrow >= last) continue;
    const y = AXIS_H + r.vrow * ROW_H - d.scrollY + 3;
    const h = ROW_H - 6;
    const colour = p.status[r.status] ?? p.faint;
    const x = LABEL_W + r.x;
    if (r.retried) {
      ctx.fillStyle = hatch(ctx, colour);
      ctx.fillRect(x, y, r.w, h);
      ctx.strokeStyle = colour;
      ctx.strokeRect(x + 0.5, y + 0.5, Math.max(0, r.w - 1), h - 1);
    } else if (r.mix) {
      // Aggregated lane: colours in proportion to the tasks' statuses (see mixBands).
      ctx.globalAlpha = r.count > 1 ? Math.min(1, 0.45 + 0.1 * Math.log2(r.count)) : 1;
      for (const band of mixBands(r.mix, h)) {
        ctx.fillStyle = p.status[band.status] ?? p.faint;
        if (band.y > 0 || band.h < h) ctx.globalAlpha = 1;
        ctx.fillRect(x, y + band.y, r.w, band.h);
      }
      ctx.globalAlpha = 1;
    } else {
      ctx.fillStyle = colour;
      ctx.globalAlpha = r.count > 1 ? Math.min(1, 0.45 + 0.1 * Math.log2(r.count)) : 1;
      ctx.fillRect(x, y, r.w, h);
      ctx.globalAlpha = 1;
    }
    if (r.end === null && r.status === "running" && r.w > 3) {
      // The growing edge of a running bar.
      ctx.fillStyle = p.text;
      ctx.fillRect(x + r.w - 1.5, y, 1.5, h);
    }
    if (r.w > 60 && r.lane.task && !r.retried) {
      ctx.fillStyle = p.barText;
      const text = formatDuration((r.end ?? d.now) - r.start);
      ctx.fillText(text, x + 4, y + h / 2);
    }
  }
  if (d.critical) {
    // Outline the path's bars wherever they are scrolled into view ...
    ctx.strokeStyle = p.critical;
    ctx.lineWidth = 2.5;
    for (const r of d.rects) {
      if (r.vrow < first || r.vrow >= last || !r.lane.task || !d.critical.keys.has(r.lane.task.pathspec)) continue;
      const y = AXIS_H + r.vrow * ROW_H - d.scrollY + 1.5;
      ctx.strokeRect(LABEL_W + r.x - 1.5, y, Math.max(3, r.w + 3), ROW_H - 3);
    }
    ctx.lineWidth = 1;
  }
  if (d.hover) {
    const r = d.hover;
    const y = AXIS_H + r.vrow * ROW_H - d.scrollY + 2;
    ctx.strokeStyle = p.text;
    ctx.lineWidth = 1.5;
    ctx.strokeRect(LABEL_W + r.x - 1, y, r.w + 2, ROW_H - 4);
  }

  // "Now" line while anything runs.
  if (d.now > win[0] && d.now < win[1] && d.rects.some((r) => r.end === null)) {
    const x = Math.round(LABEL_W + xOf(d.now, win, plotW)) + 0.5;
    ctx.strokeStyle = p.status.running;
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(x, AXIS_H);
    ctx.lineTo(x, height);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.restore();
  // The keyboard's row, across the labels and the plot.
  if (d.focusRow !== null && d.focusRow !== undefined && d.focusRow >= first && d.focusRow < last) {
    const y = AXIS_H + d.focusRow * ROW_H - d.scrollY;
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, AXIS_H, width, height - AXIS_H);
    ctx.clip();
    ctx.strokeStyle = p.status.running;
    ctx.lineWidth = 2;
    ctx.strokeRect(1, y + 1, width - 2, ROW_H - 2);
    ctx.restore();
  }

  // Axis strip on top.
  ctx.fillStyle = p.sunken;
  ctx.fillRect(0, 0, width, AXIS_H);
  ctx.strokeStyle = p.border;
  ctx.beginPath();
  ctx.moveTo(0, AXIS_H - 0.5); ctx.lineTo(width, AXIS_H - 0.5);
  ctx.moveTo(LABEL_W - 0.5, 0); ctx.lineTo(LABEL_W - 0.5, height);
  ctx.stroke();
  const span = win[1] - win[0];
  const step = tickStep(win, plotW);
  for (const t of tickList) {
    const x = LABEL_W + xOf(t, win, plotW);
    const label = formatOffset(t - d.origin, step);
    if (x < LABEL_W + 2 || x + 3 + textWidth(ctx, SANS, label) > width - 2) continue;
    ctx.font = SANS;
    ctx.fillStyle = p.muted;
    ctx.fillText(label, x + 3, AXIS_H / 2);
  }
  ctx.font = SANS;
  ctx.fillStyle = p.faint;
  ctx.fillText(`${formatClock(win[0], span < 10_000)} · ${formatDuration(span)}`, 8, AXIS_H / 2);
  if (d.critical) {
    // ... and always show the whole path as a band along the axis, even when its rows are not visible.
    ctx.fillStyle = p.critical;
    for (const [s, e] of d.critical.spans) {
      const x0 = Math.max(LABEL_W, LABEL_W + xOf(s, win, plotW));
      const x1 = Math.min(width, LABEL_W + xOf(e, win, plotW));
      if (x1 > x0) ctx.fillRect(x0, AXIS_H - 5, Math.max(1, x1 - x0), 4);
    }
  }
}

/** The minimap: a density strip of the whole run and the brush of the visible window. */
export function drawMinimap(ctx: CanvasRenderingContext2D, width: number, height: number, bounds: Window, win: Window,
  rects: BarRect[], lanes: number, p: Palette): void {
  ctx.clearRect(0, 0, width, height);
  const laneH = Math.max(2, (height - 6) / Math.max(1, lanes));
  for (const r of rects) {
    ctx.fillStyle = p.status[r.status] ?? p.faint;
    ctx.globalAlpha = 0.75;
    ctx.fillRect(r.x, 3 + r.vrow * laneH, r.w, Math.max(1, laneH - 1));
  }
  ctx.globalAlpha = 1;
  const x0 = xOf(win[0], bounds, width);
  const x1 = xOf(win[1], bounds, width);
  ctx.fillStyle = "rgba(0,0,0,0.18)";
  ctx.fillRect(0, 0, Math.max(0, x0), height);
  ctx.fillRect(x1, 0, Math.max(0, width - x1), height);
  ctx.strokeStyle = p.text;
  ctx.lineWidth = 1;
  ctx.strokeRect(Math.max(0.5, x0 + 0.5), 0.5, Math.max(2, x1 - x0 - 1), height - 1);
}
