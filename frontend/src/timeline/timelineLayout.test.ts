import { describe, expect, it } from "vitest";
import type { Timeline, TimelineSegment } from "../api/types";
import { barRects, clampWindow, fitWindow, formatOffset, initialLaneRequest, laneLabel, mixBands, nextLaneRequest, ticks, hitTest, laneRequest, panBy, rowModel, tickStep, tOf, visualRows, xOf, zoomAt, rowForKey, scrollToShow } from "./timelineLayout";

const timeline = (lanes: Timeline["lanes"], groups: Timeline["groups"] = []): Timeline => ({
  start: 0, end: 1000, width: 100, bucket_ms: 5, total_rows: lanes.length, row_start: 0, tasks_per_lane: 1, groups, lanes,
});

describe("time ⇄ pixels", () => {
  it("maps both ways", () => {
    expect(xOf(500, [0, 1000], 200)).toBe(100);
    expect(tOf(100, [0, 1000], 200)).toBe(500);
  });
  it("fits with padding", () => {
    const [a, b] = fitWindow(1000, 11000);
    expect(a).toBeLessThan(1000);
    expect(b).toBeGreaterThan(11000);
  });
});

describe("zoom and pan", () => {
  it("keeps the anchor under the cursor", () => {
    const w = zoomAt([0, 1000], 250, 0.5, [0, 1000]);
    expect(w).toEqual([125, 625]);
    expect((250 - w[0]) / (w[1] - w[0])).toBeCloseTo(0.25);
  });
  it("never zooms out past the bounds or in past the minimum span", () => {
    expect(zoomAt([0, 1000], 500, 4, [0, 1000])).toEqual([0, 1000]);
    const tiny = zoomAt([0, 100], 50, 0.0001, [0, 1000]);
    expect(tiny[1] - tiny[0]).toBe(20);
  });
  it("pans within bounds", () => {
    expect(panBy([100, 200], 50, [0, 1000])).toEqual([150, 250]);
    expect(panBy([100, 200], -500, [0, 1000])).toEqual([0, 100]);
    expect(clampWindow([950, 1050], [0, 1000])).toEqual([900, 1000]);
  });
  it("picks readable tick steps", () => {
    expect(tickStep([0, 60_000], 600)).toBe(10_000);
    expect(tickStep([0, 100], 1000)).toBe(10);
  });
  it("places ticks at whole steps from the run start", () => {
    expect(ticks([1003, 1063], 60 * 90 / 20, 1003).slice(0, 3)).toEqual([1003, 1023, 1043]);
  });
});

describe("visual rows", () => {
  const groups = [{ step_name: "start", host: null, row_start: 0, row_count: 1 }, { step_name: "train", host: null, row_start: 1, row_count: 3 }];
  it("puts a header before each step's lanes", () => {
    const rows = visualRows(groups, true, new Set(), 4);
    expect(rows.map((r) => (r.kind === "header" ? `h:${r.step}` : r.row))).toEqual(["h:start", 0, "h:train", 1, 2, 3]);
  });
  it("collapsed steps keep only their header", () => {
    const rows = visualRows(groups, true, new Set(["train"]), 4);
    expect(rows).toHaveLength(3);
  });
  it("flat mode has lanes only", () => {
    expect(visualRows(groups, false, new Set(), 4)).toHaveLength(4);
  });
  it("the row model answers without materializing every row", () => {
    const big = [{ step_name: "start", host: null, row_start: 0, row_count: 1 }, { step_name: "sweep", host: null, row_start: 1, row_count: 100_000 },
      { step_name: "end", host: null, row_start: 100_001, row_count: 1 }];
    const m = rowModel(big, true, new Set(), 100_002);
    expect(m.length).toBe(100_005);
    expect(m.at(0)).toEqual({ kind: "header", step: "start", count: 1, collapsed: false });
    expect(m.at(1)).toEqual({ kind: "lane", step: "start", row: 0 });
    expect(m.at(2)).toMatchObject({ kind: "header", step: "sweep" });
    expect(m.at(100_002)).toEqual({ kind: "lane", step: "sweep", row: 100_000 });
    expect(m.at(100_003)).toMatchObject({ kind: "header", step: "end" });
    expect(m.at(100_005)).toBeUndefined();
    expect(m.vrowOf(0)).toBe(1);
    expect(m.vrowOf(500)).toBe(502);
    expect(m.vrowOf(100_001)).toBe(100_004);
    expect(m.vrowOf(100_002)).toBe(-1);
    const folded = rowModel(big, true, new Set(["sweep"]), 100_002);
    expect(folded.length).toBe(5);
    expect(folded.vrowOf(500)).toBe(-1);
    expect(folded.vrowOf(100_001)).toBe(4);
    expect(folded.at(3)).toMatchObject({ kind: "header", step: "end" });
  });
  it("the row model agrees with the materialized rows", () => {
    const groups = [{ step_name: "a", host: null, row_start: 0, row_count: 3 }, { step_name: "b", host: null, row_start: 3, row_count: 0 }, { step_name: "c", host: null, row_start: 3, row_count: 2 }];
    for (const collapsed of [new Set<string>(), new Set(["a"]), new Set(["c"])]) {
      const m = rowModel(groups, true, collapsed, 5);
      const rows = visualRows(groups, true, collapsed, 5);
      expect(m.length).toBe(rows.length);
      rows.forEach((r, i) => {
        expect(m.at(i)).toEqual(r);
        if (r.kind === "lane") expect(m.vrowOf(r.row)).toBe(i);
      });
    }
  });
  it("opens with the rows that fit the screen and keeps a request that still covers them", () => {
    expect(initialLaneRequest(46)).toEqual({ rowStart: 0, rows: 50 });
    expect(initialLaneRequest(51)).toEqual({ rowStart: 0, rows: 100 });
    const first = initialLaneRequest(46);
    // The answer shows a step header first: the lanes needed are fewer, the first request still covers them.
    expect(nextLaneRequest(first, { rowStart: 0, rows: 50 })).toBe(first);
    const wide = { rowStart: 0, rows: 100 };
    expect(nextLaneRequest(wide, { rowStart: 0, rows: 50 })).toBe(wide);
    expect(nextLaneRequest({ rowStart: 0, rows: 200 }, { rowStart: 0, rows: 50 })).toEqual({ rowStart: 0, rows: 50 });
    expect(nextLaneRequest(first, { rowStart: 50, rows: 50 })).toEqual({ rowStart: 50, rows: 50 });
  });
  it("asks for the server rows under the visible visual rows, quantized", () => {
    const many = [{ step_name: "a", host: null, row_start: 0, row_count: 1000 }];
    const rows = rowModel(many, true, new Set(), 1000);
    expect(laneRequest(rows, 0, 30)).toEqual({ rowStart: 0, rows: 50 });
    expect(laneRequest(rows, 120, 30)).toEqual({ rowStart: 100, rows: 50 });
    expect(laneRequest(rows, 140, 30)).toEqual({ rowStart: 100, rows: 100 });
  });
});

describe("bar rectangles (level of detail)", () => {
  const task = (id: string) => ({ task_id: id, step_name: "s", foreach_value: null, iteration: null, status: "completed" as const, pathspec: `F/1/s/${id}`, host: null });
  it("one bar per attempt, earlier failed attempts hatched", () => {
    const data = timeline([{ row: 0, task: task("1"), bars: [[0, 100, "failed", 0], [200, 400, "completed", 1]] }]);
    const rects = barRects(data, rowModel([], false, new Set(), 1), [0, 1000], 100, 0);
    expect(rects).toHaveLength(2);
    expect(rects[0]).toMatchObject({ x: 0, w: 10, retried: true, attempt: 0 });
    expect(rects[1]).toMatchObject({ x: 20, w: 20, retried: false, status: "completed" });
  });
  it("running bars extend to now", () => {
    const data = timeline([{ row: 0, task: task("1"), bars: [[100, null, "running", 0]] }]);
    const [r] = barRects(data, rowModel([], false, new Set(), 1), [0, 1000], 100, 600);
    expect(r!.w).toBe(50);
  });
  it("sub-pixel bars get one pixel; touching same-status segments merge", () => {
    const data = timeline([{ row: 0, task: null, segments: [[0, 2, "completed", 3, {}], [2, 4, "completed", 2, {}], [500, 501, "failed", 1, {}]] }]);
    const rects = barRects(data, rowModel([], false, new Set(), 1), [0, 1000], 100, 0);
    expect(rects).toHaveLength(2);
    expect(rects[0]!.count).toBe(5);
    expect(rects[1]!.w).toBe(1);
  });
  it("keeps the per-status mix of segments and sums it when they merge", () => {
    const seg = (a: number, b: number, st: "failed" | "completed", n: number, mix: Record<string, number>):
      TimelineSegment => [a, b, st, n, mix];
    const data = timeline([{ row: 0, task: null, segments: [
      seg(0, 100, "failed", 293, { failed: 3, completed: 290 }), seg(100, 200, "failed", 10, { failed: 1, completed: 9 })] }]);
    const [r] = barRects(data, rowModel([], false, new Set(), 1), [0, 1000], 100, 0);
    expect(r!.mix).toEqual({ failed: 4, completed: 299 });
  });
  it("draws 3 failed of 293 as a thin failed band over a completed bar", () => {
    const bands = mixBands({ failed: 3, completed: 290 }, 14);
    expect(bands[0]).toEqual({ status: "completed", y: 0, h: 14 });
    expect(bands[1]).toMatchObject({ status: "failed", y: 0, h: 2 });
    const half = mixBands({ failed: 150, completed: 150, running: 0 }, 14);
    expect(half).toHaveLength(2);
    expect(half[1]!.h).toBe(7);
    expect(mixBands({ running: 5 }, 14)).toEqual([{ status: "running", y: 0, h: 14 }]);
  });
  it("skips bars outside the window", () => {
    const data = timeline([{ row: 0, task: task("1"), bars: [[2000, 3000, "completed", 0]] }]);
    expect(barRects(data, rowModel([], false, new Set(), 1), [0, 1000], 100, 0)).toHaveLength(0);
  });
  it("hit-tests by row and x with a little slop", () => {
    const data = timeline([
      { row: 0, task: task("1"), bars: [[0, 100, "completed", 0]] },
      { row: 1, task: task("2"), bars: [[500, 600, "completed", 0]] },
    ]);
    const rects = barRects(data, rowModel([], false, new Set(), 2), [0, 1000], 100, 0);
    expect(hitTest(rects, 55, 25, 20, 0)?.lane.task?.task_id).toBe("2");
    expect(hitTest(rects, 11, 5, 20, 0)?.lane.task?.task_id).toBe("1");
    expect(hitTest(rects, 30, 5, 20, 0)).toBeNull();
  });
});

describe("tick labels", () => {
  it("are offsets from the run start, as precise as the step", () => {
    expect(formatOffset(120, 20)).toBe("+120ms");
    expect(formatOffset(1250, 250)).toBe("+1.25s");
    expect(formatOffset(1500, 500)).toBe("+1.5s");
    expect(formatOffset(130_000, 10_000)).toBe("+2m 10s");
    expect(formatOffset(3_600_000, 600_000)).toBe("+1h");
    expect(formatOffset(-500, 100)).toBe("−500ms");
    // Past an hour, ticks under a minute apart keep their seconds (they all read "+2h 19m" before).
    expect(formatOffset(2 * 3_600_000 + 19 * 60_000 + 30_000, 5_000)).toBe("+2h 19m 30s");
    expect(formatOffset(2 * 3_600_000 + 19 * 60_000, 5_000)).toBe("+2h 19m");
    expect(formatOffset(2 * 3_600_000 + 20 * 60_000, 600_000)).toBe("+2h 20m");
  });
});

describe("rows grouped by host", () => {
  it("labels each host's header and names the tasks with no host", () => {
    const groups = [{ step_name: null, host: "w1", row_start: 0, row_count: 2 }, { step_name: null, host: null, row_start: 2, row_count: 1 }];
    const rows = visualRows(groups, true, new Set(["no host recorded"]), 3);
    expect(rows).toEqual([
      { kind: "header", step: "w1", count: 2, collapsed: false },
      { kind: "lane", step: "w1", row: 0 },
      { kind: "lane", step: "w1", row: 1 },
      { kind: "header", step: "no host recorded", count: 1, collapsed: true },
    ]);
  });
});

describe("lane labels", () => {
  it("show the foreach value and the loop iteration, counted from 1", () => {
    const t = { task_id: "7", step_name: "tick", foreach_value: "A", iteration: 0 };
    expect(laneLabel(t, false)).toBe("7  ↻1  [A]");
    expect(laneLabel({ ...t, foreach_value: null, iteration: 2 }, true)).toBe("tick/7  ↻3");
    expect(laneLabel({ ...t, iteration: null }, false)).toBe("7  [A]");
  });
});

describe("keyboard rows", () => {
  it("moves the chosen row by key, within the rows", () => {
    expect(rowForKey("ArrowDown", 0, 5, 3)).toBe(1);
    expect(rowForKey("j", 4, 5, 3)).toBe(4);
    expect(rowForKey("k", 0, 5, 3)).toBe(0);
    expect(rowForKey("ArrowUp", 3, 5, 3)).toBe(2);
    expect(rowForKey("PageDown", 1, 5, 3)).toBe(4);
    expect(rowForKey("PageUp", 4, 5, 3)).toBe(1);
    expect(rowForKey("Home", 3, 5, 3)).toBe(0);
    expect(rowForKey("End", 0, 5, 3)).toBe(4);
    expect(rowForKey("Enter", 0, 5, 3)).toBeNull();
    expect(rowForKey("ArrowDown", 0, 0, 3)).toBeNull();
  });

  it("scrolls just enough to show the chosen row", () => {
    expect(scrollToShow(2, 0, 100, 20)).toBe(0);
    expect(scrollToShow(5, 0, 100, 20)).toBe(20);
    expect(scrollToShow(1, 60, 100, 20)).toBe(20);
  });
});
