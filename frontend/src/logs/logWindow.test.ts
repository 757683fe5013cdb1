import { describe, expect, it } from "vitest";
import type { LogLine } from "../api/types";
import { growWindow, initialWindow, LINE_H, LineStore, MAX_WINDOW, PAGE, pageQuery, pagesFor, slideWindow } from "./logWindow";

const lines = (from: number, to: number): LogLine[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ line: from + i, ts: 0, text: `line ${from + i}` }));

describe("line window", () => {
  it("a small log fits whole", () => {
    expect(initialWindow(500, null)).toEqual({ base: 1, count: 500 });
  });

  it("a million-line log opens at its tail, under the browser's height limit", () => {
    const w = initialWindow(1_000_000, null);
    expect(w.base + w.count - 1).toBe(1_000_000);
    expect(w.count * LINE_H).toBeLessThan(33_000_000 / 2);
  });

  it("a permalink centres the window on its line", () => {
    const w = initialWindow(1_000_000, 300_000);
    expect(w.base).toBeLessThanOrEqual(300_000);
    expect(w.base + w.count).toBeGreaterThan(300_000);
    expect(initialWindow(1_000_000, 5).base).toBe(1);
  });

  it("slides when the view nears an edge with more beyond, not otherwise", () => {
    const w = initialWindow(1_000_000, null);
    expect(slideWindow(w, 1_000_000, 999_900, 999_950)).toBeNull();
    const moved = slideWindow(w, 1_000_000, w.base + 10, w.base + 60)!;
    expect(moved.base).toBeLessThan(w.base);
    expect(moved.count).toBe(MAX_WINDOW);
    expect(slideWindow({ base: 1, count: MAX_WINDOW }, 1_000_000, 5, 50)).toBeNull();
  });

  it("a window on the tail follows a growing log", () => {
    expect(growWindow({ base: 1, count: 10 }, 10, 25)).toEqual({ base: 1, count: 25 });
    const big = growWindow({ base: 1_000_000 - MAX_WINDOW + 1, count: MAX_WINDOW }, 1_000_000, 1_000_100);
    expect(big.base + big.count - 1).toBe(1_000_100);
    expect(growWindow({ base: 1, count: MAX_WINDOW }, 1_000_000, 1_000_100)).toEqual({ base: 1, count: MAX_WINDOW });
  });
});

describe("pages", () => {
  it("maps line ranges to pages and pages to queries", () => {
    expect(pagesFor(1, PAGE)).toEqual([0]);
    expect(pagesFor(PAGE, PAGE + 1)).toEqual([0, 1]);
    expect(pagesFor(10, 5)).toEqual([]);
    expect(pageQuery(2)).toEqual({ from_line: 2 * PAGE + 1, limit: PAGE });
  });

  it("the store knows which pages are still missing", () => {
    const s = new LineStore();
    s.add(lines(1, PAGE), { page: 0 });
    s.add(lines(2 * PAGE + 1, 2 * PAGE + 50));
    expect(s.missingPages(1, 3 * PAGE, 2 * PAGE + 50)).toEqual([1]);
  });

  it("tail lines that fill a page count as that page", () => {
    const s = new LineStore();
    s.add(lines(PAGE + 1, 2 * PAGE));
    expect(s.missingPages(PAGE + 1, 2 * PAGE, 2 * PAGE)).toEqual([]);
  });

  it("evicts the lines farthest from the view", () => {
    const s = new LineStore();
    s.add(lines(1, 3000));
    s.evict(2900, 1000);
    expect(s.size).toBe(1000);
    expect(s.get(2900)).toBeDefined();
    expect(s.get(1)).toBeUndefined();
    expect(s.missingPages(1, 10, 3000)).toEqual([0]);
  });

  it("finds matching lines in order", () => {
    const s = new LineStore();
    s.add(lines(1, 30));
    expect(s.find((t) => t.endsWith("7"))).toEqual([7, 17, 27]);
  });
});
