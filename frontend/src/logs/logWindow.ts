// Log paging math for huge logs. The scroller never holds more than MAX_WINDOW lines: browsers cap
// an element's height near 33M px (1M lines × 18 px would pass it), so the scroller shows a window
// [base, base + count) of the line range and slides it when the user nears an edge. Lines are
// fetched in fixed pages as they come into view, and the cache is bounded.

import type { LogLine } from "../api/types";

export const PAGE = 1000;
export const LINE_H = 18;
// 1.8M px at 18 px per line: far from the limit, even when zoomed. Not larger: the virtualizer
// keeps one measurement per line of the window, and building 400,000 of them cost ~60 ms of the
// log's first paint (and of every slide); a quarter window (25,000 lines) still scrolls a long way
// before the window slides.
export const MAX_WINDOW = 100_000;
export const MAX_CACHED_LINES = 150_000;

export interface LineWindow {
  /** First line number (1-based) shown by the scroller. */
  base: number;
  count: number;
}

/** The window to open with: around `focus` (a permalink) or at the tail. */
export function initialWindow(total: number, focus: number | null): LineWindow {
  const count = Math.min(total, MAX_WINDOW);
  if (count === total) return { base: 1, count };
  if (focus === null) return { base: total - count + 1, count };
  const base = Math.max(1, Math.min(total - count + 1, focus - Math.floor(count / 2)));
  return { base, count };
}

/**
 * Slides the window when the visible lines come within a quarter window of an edge that has
 * more lines beyond it. Returns null when no move is needed.
 */
export function slideWindow(win: LineWindow, total: number, firstVisible: number, lastVisible: number): LineWindow | null {
  if (win.count >= total) return win.base === 1 && win.count === total ? null : { base: 1, count: total };
  const margin = Math.floor(win.count / 4);
  const end = win.base + win.count - 1;
  const nearTop = firstVisible - win.base < margin && win.base > 1;
  const nearBottom = end - lastVisible < margin && end < total;
  if (!nearTop && !nearBottom) return null;
  const centre = Math.floor((firstVisible + lastVisible) / 2);
  const base = Math.max(1, Math.min(total - win.count + 1, centre - Math.floor(win.count / 2)));
  return base === win.base ? null : { base, count: win.count };
}

/** The window after the log grew to `total` lines; a window that showed the tail keeps showing it. */
export function growWindow(win: LineWindow, oldTotal: number, total: number): LineWindow {
  const showedTail = win.base + win.count - 1 >= oldTotal;
  if (!showedTail) return win;
  const count = Math.min(total, MAX_WINDOW);
  return { base: Math.max(1, total - count + 1), count };
}

/** Pages (0-based) that hold lines [first, last] (1-based, inclusive). */
export function pagesFor(first: number, last: number): number[] {
  if (last < first) return [];
  const out: number[] = [];
  for (let p = Math.floor((Math.max(1, first) - 1) / PAGE); p <= Math.floor((last - 1) / PAGE); p++) out.push(p);
  return out;
}

export function pageQuery(page: number): { from_line: number; limit: number } {
  return { from_line: page * PAGE + 1, limit: PAGE };
}

/** A bounded cache of log lines by number, remembering which pages are fully present. */
export class LineStore {
  private lines = new Map<number, LogLine>();
  private pages = new Set<number>();

  get size(): number {
    return this.lines.size;
  }

  get(line: number): LogLine | undefined {
    return this.lines.get(line);
  }

  add(lines: readonly LogLine[], complete: { page: number } | null = null): void {
    for (const l of lines) this.lines.set(l.line, l);
    if (complete) this.pages.add(complete.page);
    // Tail and streamed lines may fill pages too.
    for (const p of new Set(lines.map((l) => Math.floor((l.line - 1) / PAGE)))) {
      if (!this.pages.has(p) && this.hasAll(p * PAGE + 1, (p + 1) * PAGE)) this.pages.add(p);
    }
  }

  hasAll(first: number, last: number): boolean {
    for (let i = first; i <= last; i++) if (!this.lines.has(i)) return false;
    return true;
  }

  /** Pages needed for [first, last] that are neither cached nor the log's unfinished last page. */
  missingPages(first: number, last: number, total: number): number[] {
    return pagesFor(first, Math.min(last, total)).filter((p) => {
      if (this.pages.has(p)) return false;
      const pageEnd = Math.min(total, (p + 1) * PAGE);
      return !this.hasAll(p * PAGE + 1, pageEnd);
    });
  }

  /** Drops the lines farthest from `keep` once the cache passes its bound. */
  evict(keep: number, max = MAX_CACHED_LINES): void {
    if (this.lines.size <= max) return;
    const sorted = [...this.lines.keys()].sort((a, b) => Math.abs(b - keep) - Math.abs(a - keep));
    for (const n of sorted.slice(0, this.lines.size - max)) {
      this.lines.delete(n);
      this.pages.delete(Math.floor((n - 1) / PAGE));
    }
  }

  /** Every cached line matching `test`, in order: the client-side search of a fully loaded log. */
  find(test: (text: string) => boolean): number[] {
    return [...this.lines.values()].filter((l) => test(l.text)).map((l) => l.line).sort((a, b) => a - b);
  }
}
