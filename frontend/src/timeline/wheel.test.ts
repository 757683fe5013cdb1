import { afterEach, describe, expect, it, vi } from "vitest";
import { zoomAt, tOf, panBy, type Window } from "./timelineLayout";
import { Debouncer, WheelCoalescer, ZOOM_RATE, addWheel, applyGesture, type WheelGesture } from "./wheel";

const bounds: Window = [0, 100_000];
const empty = (): WheelGesture => ({ zoom: 0, anchorX: 0, pan: 0, scroll: 0 });

describe("wheel gestures", () => {
  it("sorts events into zoom, pan and row scroll", () => {
    const g = empty();
    addWheel(g, { deltaX: 0, deltaY: -120, shiftKey: false, x: 300 });
    addWheel(g, { deltaX: 80, deltaY: 5, shiftKey: false, x: 310 });
    addWheel(g, { deltaX: 0, deltaY: 40, shiftKey: false, x: -10 });
    addWheel(g, { deltaX: 0, deltaY: 20, shiftKey: true, x: 100 });
    expect(g).toEqual({ zoom: -120, anchorX: 300, pan: 80, scroll: 60 });
  });
  it("a coalesced zoom lands where the same steps one by one land", () => {
    let win: Window = [10_000, 90_000];
    const plotW = 1000;
    const x = 600;
    for (let i = 0; i < 5; i++) win = zoomAt(win, tOf(x, win, plotW), Math.exp(-120 * ZOOM_RATE), bounds);
    const g = empty();
    for (let i = 0; i < 5; i++) addWheel(g, { deltaX: 0, deltaY: -120, shiftKey: false, x });
    const once = applyGesture([10_000, 90_000], g, bounds, plotW);
    expect(once[0]).toBeCloseTo(win[0], 6);
    expect(once[1]).toBeCloseTo(win[1], 6);
  });
  it("a coalesced pan moves by the summed pixels", () => {
    const g = empty();
    g.pan = 100;
    expect(applyGesture([10_000, 20_000], g, bounds, 1000)).toEqual(panBy([10_000, 20_000], 1000, bounds));
  });
});

describe("WheelCoalescer", () => {
  it("applies many events in one frame once, with their sum", () => {
    const frames: (() => void)[] = [];
    const applied: WheelGesture[] = [];
    const c = new WheelCoalescer((g) => applied.push(g), (cb) => frames.push(cb), () => undefined);
    for (let i = 0; i < 8; i++) c.add({ deltaX: 0, deltaY: -120, shiftKey: false, x: 200 + i });
    expect(frames).toHaveLength(1);
    expect(applied).toHaveLength(0);
    frames[0]!();
    expect(applied).toEqual([{ zoom: -960, anchorX: 207, pan: 0, scroll: 0 }]);
    c.add({ deltaX: 50, deltaY: 0, shiftKey: false, x: 10 });
    expect(frames).toHaveLength(2);
    frames[1]!();
    expect(applied[1]).toMatchObject({ pan: 50, zoom: 0 });
  });
  it("dispose cancels the pending frame", () => {
    const cancelled: number[] = [];
    const apply = vi.fn();
    const c = new WheelCoalescer(apply, () => 7, (h) => cancelled.push(h));
    c.add({ deltaX: 0, deltaY: 10, shiftKey: false, x: 0 });
    c.dispose();
    expect(cancelled).toEqual([7]);
    c.flush();
    expect(apply).not.toHaveBeenCalled();
  });
});

describe("level-of-detail request debouncing", () => {
  afterEach(() => vi.useRealTimers());
  it("asks once for the last window after the gesture is still", () => {
    vi.useFakeTimers();
    const asked: Window[] = [];
    const d = new Debouncer<Window>((w) => asked.push(w));
    for (let i = 0; i < 30; i++) {
      if (i) vi.advanceTimersByTime(16);
      d.push([i, 1000 - i], 150);
    }
    expect(asked).toEqual([]);
    vi.advanceTimersByTime(149);
    expect(asked).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(asked).toEqual([[29, 971]]);
  });
  it("asks at once with no delay (following a live run), and cancel drops a pending ask", () => {
    vi.useFakeTimers();
    const asked: number[] = [];
    const d = new Debouncer<number>((v) => asked.push(v));
    d.push(1, 0);
    expect(asked).toEqual([1]);
    d.push(2, 100);
    d.cancel();
    vi.advanceTimersByTime(500);
    expect(asked).toEqual([1]);
  });
});
