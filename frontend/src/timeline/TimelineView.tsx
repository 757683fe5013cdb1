// The run timeline: a canvas fed by the backend's level-of-detail endpoint. The URL keeps the
// window (ws/we), sort, grouping and filters; without a window the view fits the run and, while
// the run is running, follows it.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { flushSync } from "react-dom";
import { useNavigate } from "react-router";
import type { Run } from "../api/types";
import { useDag, useTimeline } from "../api/runDetail";
import { useCriticalPath } from "../api/triage";
import type { TimelineParams } from "../nav/viewState";
import { useView } from "../nav/useView";
import { isTyping } from "../shell/shortcuts";
import { useTheme } from "../shell/theme";
import { ErrorBox, Loading, Empty } from "../ui/states";
import { useNow } from "../ui/useNow";
import { formatCount, formatDuration } from "../ui/format";
import { AXIS_H, LABEL_W, ROW_H, drawTimeline, themePalette } from "./drawTimeline";
import { barRects, fitWindow, hitTest, initialLaneRequest, laneLabel, laneRequest, nextLaneRequest, panBy, rowModel, zoomAt, type BarRect, type LaneRequest, type Window } from "./timelineLayout";
import { Debouncer, WheelCoalescer, applyGesture } from "./wheel";
import { TimelineToolbar } from "./TimelineToolbar";
import { TimelineTooltip } from "./TimelineTooltip";
import { Minimap } from "./Minimap";
import { runEnd } from "../runs/runDuration";
import { prepareCanvas, useElementSize } from "./useElementSize";

export function TimelineView({ run }: { run: Run }) {
  const [view, setView] = useView();
  const navigate = useNavigate();
  const [, theme] = useTheme();
  const params = view.timeline;
  const running = run.status === "running";
  const now = useNow(running);
  const runStart = run.started_at ?? run.created_at;
  const end = runEnd(run, now);
  const bounds = useMemo<Window>(() => fitWindow(runStart, end), [runStart, end]);

  // While dragging or zooming the window lives here; it is written to the URL when the gesture settles.
  const [localWin, setLocalWin] = useState<Window | null>(params.window);
  // The URL's window is parsed anew on every URL change: keep the same array when its values are the same.
  useEffect(() => setLocalWin((old) => (old && params.window && old[0] === params.window[0] && old[1] === params.window[1] ? old : params.window)),
    [params.window?.[0], params.window?.[1]]);
  const win = localWin ?? bounds;
  const following = running && localWin === null;

  const setParams = useCallback((p: Partial<TimelineParams>) =>
    setView((s) => ({ ...s, timeline: { ...s.timeline, ...p } }), { replace: true }), [setView]);
  const commitTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const changeWindow = useCallback((w: Window | null) => {
    setLocalWin(w);
    if (commitTimer.current) clearTimeout(commitTimer.current);
    commitTimer.current = setTimeout(() => setParams({ window: w }), 250);
  }, [setParams]);

  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const { width, height } = useElementSize(wrapRef);
  const plotW = Math.max(10, width - LABEL_W);
  const [scrollY, setScrollY] = useState(0);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [hover, setHover] = useState<{ rect: BarRect; x: number; y: number } | null>(null);

  // The request follows the window once it has been still for a moment, so a zoom gesture is one
  // request, not fifty; meanwhile the data already here is redrawn at the new scale.
  const [reqWin, setReqWin] = useState<Window>(win);
  const reqDebounce = useRef<Debouncer<Window> | null>(null);
  reqDebounce.current ??= new Debouncer<Window>((w) => setReqWin((old) => (old[0] === w[0] && old[1] === w[1] ? old : w)));
  useEffect(() => reqDebounce.current!.push(win, following ? 0 : 150), [win[0], win[1], following]);
  useEffect(() => () => reqDebounce.current?.cancel(), []);

  const dag = useDag(run.flow_id, run.run_id);
  const dense = params.group === "dense";
  const visibleCount = Math.ceil(Math.max(0, height - AXIS_H) / ROW_H) + 1;
  // Until an answer says how rows are grouped, ask for the rows that fit the screen: the first
  // request is already the right one, not a guess corrected by a second round trip.
  const [rowsState, setRowsReq] = useState<LaneRequest | null>(null);
  const rowsReq = rowsState ?? initialLaneRequest(visibleCount);
  const timeline = useTimeline(run.flow_id, run.run_id, {
    // Following, the window's end moves every second; asking in 5 s steps keeps the query key
    // stable in between (running bars are drawn to "now" on the client anyway).
    start: Math.floor(following ? bounds[0] : reqWin[0]),
    end: following ? Math.ceil(bounds[1] / 5000) * 5000 : Math.ceil(reqWin[1]),
    // No request before the canvas has a size: an answer for a 10-pixel-wide guess is thrown away.
    width: width > 0 ? plotW : 0,
    // Dense: all tasks into the visible lanes (tasks_per_lane > 1 on big runs); otherwise the
    // visible rows, one task per lane.
    rows: dense ? Math.max(1, visibleCount - 1) : rowsReq.rows,
    rowStart: dense ? 0 : rowsReq.rowStart,
    span: dense ? null : rowsReq.rows,
    sort: params.sort, group: dense ? "flat" : params.group, status: params.status, steps: params.steps,
  }, running);
  const raw = timeline.data;
  // Aggregated lanes are numbered by their first task's row; dense mode stacks them 0..n.
  const data = useMemo(
    () => (raw && dense ? { ...raw, groups: [], total_rows: raw.lanes.length, lanes: raw.lanes.map((l, i) => ({ ...l, row: i, first: l.row })) } : raw),
    [raw, dense],
  );
  const rows = useMemo(
    () => rowModel(data?.groups ?? [], params.group === "step" || params.group === "host", collapsed, data?.total_rows ?? 0),
    [data?.groups, data?.total_rows, params.group, collapsed],
  );
  const maxScroll = Math.max(0, rows.length * ROW_H - (height - AXIS_H));
  const clampedScroll = Math.min(scrollY, maxScroll);
  useEffect(() => {
    if (!rows.length || dense) return;
    const needed = laneRequest(rows, Math.floor(clampedScroll / ROW_H), visibleCount);
    setRowsReq((r) => {
      const cur = r ?? initialLaneRequest(visibleCount);
      const next = nextLaneRequest(cur, needed);
      return next === cur ? r ?? cur : next;
    });
  }, [rows, clampedScroll, visibleCount, dense]);

  const rects = useMemo(() => (data ? barRects(data, rows, win, plotW, now) : []), [data, rows, win, plotW, now]);
  const labels = useMemo(() => {
    const m = new Map<number, string>();
    const perLane = raw?.tasks_per_lane ?? 1;
    for (const lane of data?.lanes ?? []) {
      const t = lane.task;
      const first = (lane as { first?: number }).first ?? lane.row;
      m.set(lane.row, t
        ? laneLabel(t, params.group !== "step")
        : `tasks ${formatCount(first + 1)}–${formatCount(Math.min(raw?.total_rows ?? 0, first + perLane))}`);
    }
    return m;
  }, [data, raw, params.group]);

  const cpQuery = useCriticalPath(run.flow_id, run.run_id, running, params.criticalPath);
  const critical = useMemo(() => {
    const cp = params.criticalPath ? cpQuery.data : undefined;
    if (!cp) return null;
    return {
      keys: new Set(cp.tasks.map((t) => t.pathspec)),
      spans: cp.tasks.filter((t) => t.started_at !== null)
        .map((t): [number, number] => [t.started_at!, t.finished_at ?? now]),
    };
  }, [params.criticalPath, cpQuery.data, now]);
  const criticalShown = critical ? rects.filter((r) => r.lane.task && critical.keys.has(r.lane.task.pathspec)).length : 0;

  // Drawn before the browser paints (a layout effect), so a wheel step's frame shows its own window.
  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || width === 0 || height === 0) return;
    const ctx = prepareCanvas(canvas, width, height);
    if (!ctx) return;
    drawTimeline(ctx, { width, height, win, rows, rects, scrollY: clampedScroll, labels, hover: hover?.rect ?? null, now, origin: runStart, palette: themePalette(), critical });
  }, [width, height, win, rows, rects, clampedScroll, labels, hover, now, theme, runStart, critical]);

  // Wheel: zoom over the plot (anchored at the cursor), scroll rows over the labels, pan with
  // horizontal deltas. Events are summed and applied once per animation frame (one render, one draw).
  const stateRef = useRef({ win, bounds, plotW, maxScroll });
  stateRef.current = { win, bounds, plotW, maxScroll };
  useEffect(() => {
    const el = canvasRef.current;
    if (!el) return;
    const wheel = new WheelCoalescer((g) => {
      const s = stateRef.current;
      flushSync(() => {
        if (g.scroll) setScrollY((y) => Math.max(0, Math.min(s.maxScroll, y + g.scroll)));
        if (g.zoom || g.pan) changeWindow(applyGesture(s.win, g, s.bounds, s.plotW));
      });
    });
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      wheel.add({ deltaX: e.deltaX, deltaY: e.deltaY, shiftKey: e.shiftKey, x: e.offsetX - LABEL_W });
    };
    el.addEventListener("wheel", onWheel, { passive: false });
    return () => {
      el.removeEventListener("wheel", onWheel);
      wheel.dispose();
    };
  }, [changeWindow]);

  const drag = useRef<{ x: number; y: number; win: Window; scroll: number; moved: boolean } | null>(null);
  const onPointerDown = (e: React.PointerEvent<HTMLCanvasElement>) => {
    drag.current = { x: e.clientX, y: e.clientY, win, scroll: clampedScroll, moved: false };
    e.currentTarget.setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    if (d) {
      const dx = e.clientX - d.x;
      const dy = e.clientY - d.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) d.moved = true;
      if (d.moved) {
        setHover(null);
        if (dx) changeWindow(panBy(d.win, (-dx / plotW) * (d.win[1] - d.win[0]), bounds));
        setScrollY(Math.max(0, Math.min(maxScroll, d.scroll - dy)));
        return;
      }
    }
    const rect = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - rect.left - LABEL_W;
    const y = e.clientY - rect.top - AXIS_H;
    const hit = x >= 0 && y >= 0 ? hitTest(rects, x, y, ROW_H, clampedScroll) : null;
    setHover(hit ? { rect: hit, x: e.clientX, y: e.clientY } : null);
  };
  const onPointerUp = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    drag.current = null;
    if (d?.moved) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top - AXIS_H;
    if (y < 0) return;
    const row = rows.at(Math.floor((y + clampedScroll) / ROW_H));
    if (row?.kind === "header") {
      setCollapsed((c) => {
        const next = new Set(c);
        if (next.has(row.step)) next.delete(row.step); else next.add(row.step);
        return next;
      });
      return;
    }
    const hit = x >= LABEL_W ? hitTest(rects, x - LABEL_W, y, ROW_H, clampedScroll) : null;
    const lane = hit?.lane ?? (row?.kind === "lane" ? data?.lanes.find((l) => l.row === row.row) : undefined);
    if (lane?.task) {
      const attempt = hit && hit.count === 1 ? `?attempt=${hit.attempt}` : "";
      navigate(`/${lane.task.pathspec.split("/").map(encodeURIComponent).join("/")}${attempt}`);
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.ctrlKey || e.metaKey) return;
      if (e.key === "f") changeWindow(null);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [changeWindow]);

  const steps = dag.data?.steps.map((s) => s.step_name) ?? [];
  return (
    <div className="timeline" data-testid="timeline" data-rows={rows.length} data-bars={rects.length}
      data-loaded={data ? "true" : "false"} data-critical={critical ? criticalShown : undefined}>
      <TimelineToolbar params={params} steps={steps} set={setParams} onFit={() => changeWindow(null)}
        onZoom={(f) => changeWindow(zoomAt(win, (win[0] + win[1]) / 2, f, bounds))}
        following={following} tasksPerLane={raw?.tasks_per_lane ?? 1} />
      <div className="timeline-canvas-wrap" ref={wrapRef}>
        <canvas ref={canvasRef} aria-label="Task timeline" role="img"
          style={{ cursor: hover ? "pointer" : drag.current?.moved ? "grabbing" : "default", touchAction: "none" }}
          onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp}
          onPointerLeave={() => setHover(null)} />
        {timeline.isPending && <div style={{ position: "absolute", inset: 0 }}><Loading label="Loading timeline" /></div>}
        {timeline.isError && <div style={{ position: "absolute", inset: "30px 0 0 0" }}><ErrorBox error={timeline.error} retry={() => void timeline.refetch()} /></div>}
        {raw && raw.total_rows === 0 && <div style={{ position: "absolute", inset: "30px 0 0 0" }}><Empty>No tasks match.</Empty></div>}
      </div>
      {params.criticalPath && (
        <div className="critical-path-note" data-testid="critical-path-note" role="status">
          {cpQuery.isPending ? "Finding the critical path…" : cpQuery.isError ? `Critical path: ${(cpQuery.error as Error).message}`
            : cpQuery.data ? <>Critical path: {cpQuery.data.tasks.map((t) => t.step_name).filter((s, i, a) => a.indexOf(s) === i).join(" → ")}
              {" · "}{formatDuration(cpQuery.data.path_ms)} running{cpQuery.data.queued_ms ? `, ${formatDuration(cpQuery.data.queued_ms)} queued` : ""}
              {" "}of {formatDuration(cpQuery.data.wall_ms)} wall (outlined; the band under the axis spans it)</> : null}
        </div>
      )}
      <Minimap run={run} bounds={bounds} win={win} onBrush={changeWindow} params={params} live={running}
        wait={!raw && !timeline.isError} />
      {hover && <TimelineTooltip hit={hover.rect} x={hover.x} y={hover.y} now={now} flow={run.flow_id} run={run.run_id} />}
    </div>
  );
}
