// A virtualized, infinitely scrolling run table over keyset pages, with live inserts held
// under a pill while the user is scrolled away from the top.
import { useCallback, useEffect, useRef, useState } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { Run } from "../api/types";
import type { RunListFilters, RunSortKey } from "../nav/viewState";
import { useListKeys } from "../shell/shortcuts";
import { RUN_COLUMNS, RUN_GRID, RunRow } from "./RunRow";
import { CompareBar } from "../compare/CompareBar";

const ROW = 32;

export function SortHeader({ filters, onSort }: { filters: RunListFilters; onSort: (k: RunSortKey) => void }) {
  return (
    <div className="vhead" style={{ gridTemplateColumns: RUN_GRID }} role="row">
      {RUN_COLUMNS.map((c) => (
        <div key={c.label} className="cell" role="columnheader"
          aria-sort={c.key && filters.sort === c.key ? (filters.dir === "asc" ? "ascending" : "descending") : undefined}>
          {c.key ? (
            <button type="button" onClick={() => onSort(c.key!)}>
              {c.label}
              {filters.sort === c.key || (c.key === "started" && filters.sort === "created") ? (filters.dir === "asc" ? " ▲" : " ▼") : ""}
            </button>
          ) : c.label}
        </div>
      ))}
    </div>
  );
}

export function RunTable({ runs, filters, onSort, hasMore, loadMore, loadingMore, pending, showPending, onOpen, onTag, onScrollTop }: {
  runs: Run[]; filters: RunListFilters; onSort: (k: RunSortKey) => void;
  hasMore: boolean; loadMore: () => void; loadingMore: boolean;
  pending: number; showPending: () => void;
  onOpen: (r: Run) => void; onTag: (t: string) => void; onScrollTop: (atTop: boolean) => void;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [selected, setSelected] = useState(-1);
  const [picked, setPicked] = useState<Run[]>([]);
  const pick = useCallback((r: Run) => setPicked((p) => p.some((x) => x.pathspec === r.pathspec)
    ? p.filter((x) => x.pathspec !== r.pathspec) : [...p, r]), []);
  const v = useVirtualizer({
    count: runs.length + (hasMore ? 1 : 0),
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW,
    overscan: 12,
  });
  const items = v.getVirtualItems();
  const last = items[items.length - 1];
  useEffect(() => {
    if (last && last.index >= runs.length - 10 && hasMore && !loadingMore) loadMore();
  }, [last, runs.length, hasMore, loadingMore, loadMore]);

  const select = useCallback((i: number) => {
    setSelected(i);
    v.scrollToIndex(i, { align: "auto" });
  }, [v]);
  const open = useCallback((i: number) => { const r = runs[i]; if (r) onOpen(r); }, [runs, onOpen]);
  useListKeys(runs.length, selected, select, open);

  return (
    <>
    <CompareBar picked={picked} clear={() => setPicked([])} />
    <div className="vtable" ref={scrollRef} role="table" aria-label="Runs"
      onScroll={(e) => onScrollTop(e.currentTarget.scrollTop < ROW)}>
      <SortHeader filters={filters} onSort={onSort} />
      {pending > 0 && (
        <button type="button" className="pill" onClick={() => { showPending(); scrollRef.current?.scrollTo({ top: 0 }); }}>
          ↑ {pending} new run{pending === 1 ? "" : "s"}
        </button>
      )}
      <div style={{ height: v.getTotalSize(), position: "relative" }}>
        {items.map((item) => {
          const run = runs[item.index];
          if (!run) {
            return <div key="more" className="vrow muted" style={{ top: item.start, gridTemplateColumns: "1fr" }}>Loading more runs…</div>;
          }
          return (
            <RunRow key={run.pathspec} run={run} selected={item.index === selected} onOpen={onOpen} onTag={onTag}
              style={{ top: item.start }} picked={picked.some((p) => p.pathspec === run.pathspec)} onPick={pick} />
          );
        })}
      </div>
    </div>
    </>
  );
}
