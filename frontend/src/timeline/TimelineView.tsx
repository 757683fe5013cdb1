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
import { barRects, fitWindow, hitTest, initialLaneRequest, laneLabel, laneRequest, nextLaneRequest, panBy, rowForKey, rowModel, scrollToShow, zoomAt, type BarRect, type LaneRequest, type Window } from "./timelineLayout";
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

  // On /Flow/12/step the path names the step filter (it wins over tstep=): a step chosen in the
  // dropdown moves the path to that step (or to the run for "All steps"), else the URL would keep
  // naming the old step and the choice would not hold.
  const setParams = useCallback((p: Partial<TimelineParams>) =>
    setView((s) => {
      const path = p.steps !== undefined && s.path.step && !s.path.task
        ? { ...s.path, step: p.steps.length === 1 ? p.steps[0]! : null } : s.path;
      return { ...s, path, timeline: { ...s.timeline, ...p } };
    }, { replace: true }), [setView]);
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
  // The keyboard's row (visual index) and whether the canvas has focus (the row is drawn only then).
  const [cursor, setCursor] = useState<number | null>(null);
  const [focused, setFocused] = useState(false);

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
  const focusRow = focused && cursor !== null && rows.length ? Math.min(cursor, rows.length - 1) : null;
  const criticalShown = critical ? rects.filter((r) => r.lane.task && critical.keys.has(r.lane.task.pathspec)).length : 0;

  // Drawn before the browser paints (a layout effect), so a wheel step's frame shows its own window.
  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || width === 0 || height === 0) return;
    const ctx = prepareCanvas(canvas, width, height);
    if (!ctx) return;
    drawTimeline(ctx, { width, height, win, rows, rects, scrollY: clampedScroll, labels, hover: hover?.rect ?? null, now, origin: runStart, palette: themePalette(), critical, focusRow });
  }, [width, height, win, rows, rects, clampedScroll, labels, hover, now, theme, runStart, critical, focusRow]);

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
  const toggleStep = (step: string) => setCollapsed((c) => {
    const next = new Set(c);
    if (next.has(step)) next.delete(step); else next.add(step);
    return next;
  });
  const openTask = (pathspec: string, attempt = "") =>
    navigate(`/${pathspec.split("/").map(encodeURIComponent).join("/")}${attempt}`);
  const onPointerUp = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    drag.current = null;
    if (d?.moved) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top - AXIS_H;
    if (y < 0) return;
    const vrow = Math.floor((y + clampedScroll) / ROW_H);
    const row = rows.at(vrow);
    if (row) setCursor(vrow);
    if (row?.kind === "header") {
      toggleStep(row.step);
      return;
    }
    const hit = x >= LABEL_W ? hitTest(rects, x - LABEL_W, y, ROW_H, clampedScroll) : null;
    const lane = hit?.lane ?? (row?.kind === "lane" ? data?.lanes.find((l) => l.row === row.row) : undefined);
    if (lane?.task) openTask(lane.task.pathspec, hit && hit.count === 1 ? `?attempt=${hit.attempt}` : "");
  };

  // Keyboard: the canvas is in the tab order. Up/Down (j/k, PageUp/PageDown, Home/End) choose a
  // row, Enter (or Space) opens its task or collapses its step, Left/Right pan, +/− zoom.
  const viewH = Math.max(ROW_H, height - AXIS_H);
  const chosenRow = focusRow !== null ? rows.at(focusRow) : undefined;
  const chosenLane = chosenRow?.kind === "lane" ? data?.lanes.find((l) => l.row === chosenRow.row) : undefined;
  const firstLaneRow = () => {
    for (let i = 0; i < rows.length; i++) if (rows.at(i)?.kind === "lane") return i;
    return 0;
  };
  // Drawn for keyboard focus only (a click or a drag also focuses the canvas: no outline then, until a key).
  const onFocus = (e: React.FocusEvent<HTMLCanvasElement>) => {
    if (!e.currentTarget.matches(":focus-visible")) return;
    setFocused(true);
    if (cursor === null && rows.length) {
      const i = firstLaneRow();
      setCursor(i);
      setScrollY(scrollToShow(i, clampedScroll, viewH, ROW_H));
    }
  };
  const onKeyDown = (e: React.KeyboardEvent<HTMLCanvasElement>) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (!focused) {
      setFocused(true);
      if (cursor === null && rows.length) setCursor(firstLaneRow());
      if (rowForKey(e.key, 0, rows.length, 1) !== null) { e.preventDefault(); return; }   // first key: show the row
    }
    const span = win[1] - win[0];
    const moved = rowForKey(e.key, focusRow ?? -1, rows.length, Math.floor(viewH / ROW_H) - 1);
    if (moved !== null) {
      setCursor(moved);
      setScrollY(scrollToShow(moved, clampedScroll, viewH, ROW_H));
    } else if (e.key === "Enter" || e.key === " ") {
      if (chosenRow?.kind === "header") toggleStep(chosenRow.step);
      else if (chosenLane?.task) openTask(chosenLane.task.pathspec);
      else return;
    } else if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      changeWindow(panBy(win, (e.key === "ArrowLeft" ? -0.2 : 0.2) * span, bounds));
    } else if (e.key === "+" || e.key === "=" || e.key === "-" || e.key === "_") {
      changeWindow(zoomAt(win, (win[0] + win[1]) / 2, e.key === "+" || e.key === "=" ? 0.5 : 2, bounds));
    } else {
      return;
    }
    e.preventDefault();
  };
  const chosenText = !chosenRow ? ""
    : chosenRow.kind === "header"
      ? `step ${chosenRow.step}, ${formatCount(chosenRow.count)} tasks, ${chosenRow.collapsed ? "collapsed; Enter expands it" : "Enter collapses it"}`
      : chosenLane?.task
        ? `${chosenLane.task.step_name}/${chosenLane.task.task_id}${chosenLane.task.foreach_value !== null ? ` [${chosenLane.task.foreach_value}]` : ""}, ${chosenLane.task.status}; Enter opens it`
        : labels.get(chosenRow.row) ?? "loading";

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.ctrlKey || e.metaKey) return;
      if (e.key === "f") changeWindow(null);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [changeWindow]);

  const steps = dag.data ? dag.data.steps.map((s) => s.step_name) : null;
  return (
    <div className="timeline" data-testid="timeline" data-rows={rows.length} data-bars={rects.length}
      data-loaded={data ? "true" : "false"} data-critical={critical ? criticalShown : undefined}>
      <TimelineToolbar params={params} steps={steps} set={setParams} onFit={() => changeWindow(null)}
        onZoom={(f) => changeWindow(zoomAt(win, (win[0] + win[1]) / 2, f, bounds))}
        following={following} tasksPerLane={raw?.tasks_per_lane ?? 1} />
      <div className="timeline-canvas-wrap" ref={wrapRef}>
        <canvas ref={canvasRef} aria-label="Task timeline" role="application" tabIndex={0}
          aria-roledescription="timeline" aria-describedby="timeline-keys"
          style={{ cursor: hover ? "pointer" : drag.current?.moved ? "grabbing" : "default", touchAction: "none" }}
          onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp}
          onPointerLeave={() => setHover(null)} onFocus={onFocus} onBlur={() => setFocused(false)} onKeyDown={onKeyDown} />
        <span id="timeline-keys" className="sr-only">Up and down choose a row, Enter opens its task or collapses its step, left and right pan, plus and minus zoom.</span>
        <span className="sr-only" role="status" aria-live="polite" data-testid="timeline-focus">{focused ? chosenText : ""}</span>
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
