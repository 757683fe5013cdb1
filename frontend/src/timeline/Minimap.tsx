// The minimap: the whole run at low detail (a few lanes, two buckets per pixel), with a brush
// showing the visible window. Drag to select a new window, click to centre it.
import { useLayoutEffect, useMemo, useRef } from "react";
import type { Run } from "../api/types";
import { useTimeline } from "../api/runDetail";
import type { TimelineParams } from "../nav/viewState";
import { drawMinimap, themePalette } from "./drawTimeline";
import { barRects, clampWindow, rowModel, tOf, type Window } from "./timelineLayout";
import { prepareCanvas, useElementSize } from "./useElementSize";
import { useTheme } from "../shell/theme";

const LANES = 6;

// `wait`: the main timeline has no answer yet. The overview is asked for after it: on a run's first
// open after a backend restart both would need the run's timeline index, and the overview's own
// row order and level (~0.2 s of the backend's CPU for 100k tasks) would be computed first.
export function Minimap({ run, bounds, win, onBrush, params, live, wait = false }: {
  run: Run; bounds: Window; win: Window; onBrush: (w: Window | null) => void; params: TimelineParams; live: boolean;
  wait?: boolean;
}) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const { width, height } = useElementSize(wrapRef);
  const [, theme] = useTheme();
  // While live, rounded to 10 s so a following run does not ask again every second.
  const reqEnd = live ? Math.ceil(bounds[1] / 10_000) * 10_000 : Math.ceil(bounds[1]);
  const overview = useTimeline(run.flow_id, run.run_id, {
    start: Math.floor(bounds[0]), end: reqEnd, width: wait ? 0 : width, rows: LANES, rowStart: 0, span: null,
    sort: params.sort, group: "flat", status: params.status, steps: params.steps,
  }, live);
  const reqBounds: Window = [Math.floor(bounds[0]), reqEnd];
  const rects = useMemo(() => {
    if (!overview.data) return [];
    const rows = rowModel([], false, new Set(), Math.min(LANES, overview.data.total_rows));
    // Aggregated lanes are numbered by their first task's row; the minimap stacks them 0..n.
    const lanes = overview.data.lanes.map((l, i) => ({ ...l, row: i }));
    return barRects({ ...overview.data, lanes }, rows, reqBounds, width, bounds[1]);
  }, [overview.data, width]);

  useLayoutEffect(() => {
    const c = canvasRef.current;
    if (!c || !width || !height) return;
    const ctx = prepareCanvas(c, width, height);
    if (ctx) drawMinimap(ctx, width, height, reqBounds, win, rects, Math.min(LANES, overview.data?.total_rows ?? 1), themePalette());
  }, [width, height, win, rects, theme]);

  const start = useRef<number | null>(null);
  const timeAt = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return tOf(e.clientX - r.left, reqBounds, width);
  };
  return (
    <div className="minimap" ref={wrapRef} title="Drag to choose a window; click to centre">
      <canvas ref={canvasRef} aria-label="Timeline overview"
        onPointerDown={(e) => { start.current = timeAt(e); e.currentTarget.setPointerCapture(e.pointerId); }}
        onPointerMove={(e) => {
          if (start.current === null) return;
          const t = timeAt(e);
          if (Math.abs(t - start.current) > (bounds[1] - bounds[0]) / 200) {
            onBrush(clampWindow([Math.min(start.current, t), Math.max(start.current, t)], bounds));
          }
        }}
        onPointerUp={(e) => {
          const s = start.current;
          start.current = null;
          if (s === null) return;
          const t = timeAt(e);
          if (Math.abs(t - s) <= (bounds[1] - bounds[0]) / 200) {
            const span = win[1] - win[0];
            onBrush(clampWindow([t - span / 2, t + span / 2], bounds));
          }
        }} />
    </div>
  );
}
