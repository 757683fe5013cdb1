// Wheel gestures on the timeline, coalesced: a trackpad or a fast wheel sends several events per
// animation frame, and each one used to re-render and redraw. Events only add to a pending
// gesture here; one callback per animation frame applies the sum. Pure apart from the injected
// scheduler, unit-tested.

import { panBy, tOf, zoomAt, type Window } from "./timelineLayout";

/** Zoom speed: a wheel delta of d multiplies the span by exp(d * ZOOM_RATE). */
export const ZOOM_RATE = 0.0015;

export interface WheelGesture {
  /** Sum of vertical deltas over the plot (zoom), anchored at `anchorX` (plot pixels, the latest event's). */
  zoom: number;
  anchorX: number;
  /** Sum of horizontal deltas over the plot, in pixels (pan). */
  pan: number;
  /** Sum of deltas over the labels or with shift (row scroll), in pixels. */
  scroll: number;
}

export interface WheelInput {
  deltaX: number;
  deltaY: number;
  shiftKey: boolean;
  /** Plot x of the cursor (negative over the labels). */
  x: number;
}

/** How one wheel event adds to a gesture: rows over the labels or with shift, pan when mostly horizontal, else zoom. */
export function addWheel(g: WheelGesture, e: WheelInput): void {
  if (e.x < 0 || e.shiftKey) {
    g.scroll += e.shiftKey ? e.deltaX || e.deltaY : e.deltaY;
  } else if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
    g.pan += e.deltaX;
  } else {
    g.zoom += e.deltaY;
    g.anchorX = e.x;
  }
}

/** The window after a coalesced gesture: pan first, then zoom around the cursor (exp of the summed deltas = the product of each step's factor). */
export function applyGesture(win: Window, g: WheelGesture, bounds: Window, plotW: number): Window {
  let next = win;
  if (g.pan) next = panBy(next, (g.pan / plotW) * (next[1] - next[0]), bounds);
  if (g.zoom) next = zoomAt(next, tOf(g.anchorX, next, plotW), Math.exp(g.zoom * ZOOM_RATE), bounds);
  return next;
}

export type Schedule = (cb: () => void) => number;
export type Cancel = (handle: number) => void;

/** Collects wheel events and hands their sum to `apply` once per scheduled frame. */
export class WheelCoalescer {
  private pending: WheelGesture | null = null;
  private handle: number | null = null;

  constructor(
    private readonly apply: (g: WheelGesture) => void,
    private readonly schedule: Schedule = (cb) => requestAnimationFrame(cb),
    private readonly cancel: Cancel = (h) => cancelAnimationFrame(h),
  ) {}

  add(e: WheelInput): void {
    this.pending ??= { zoom: 0, anchorX: e.x, pan: 0, scroll: 0 };
    addWheel(this.pending, e);
    this.handle ??= this.schedule(() => this.flush());
  }

  /** Applies what is pending now (also called by the scheduled frame). */
  flush(): void {
    if (this.handle !== null) this.cancel(this.handle);
    this.handle = null;
    const g = this.pending;
    this.pending = null;
    if (g) this.apply(g);
  }

  dispose(): void {
    if (this.handle !== null) this.cancel(this.handle);
    this.handle = null;
    this.pending = null;
  }
}

/**
 * A trailing debounce: `push` a value as often as it changes, `emit` runs once it has been still
 * for `delay` ms (immediately when `delay` is 0). The timeline asks the level-of-detail endpoint
 * for the window this way, so a zoom gesture is one request and the existing data is redrawn at
 * the new scale meanwhile.
 */
export class Debouncer<T> {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private last: { value: T } | null = null;

  constructor(private readonly emit: (value: T) => void) {}

  push(value: T, delay: number): void {
    this.last = { value };
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (delay <= 0) {
      this.fire();
      return;
    }
    this.timer = setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    this.timer = null;
    const v = this.last;
    this.last = null;
    if (v) this.emit(v.value);
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.last = null;
  }
}
