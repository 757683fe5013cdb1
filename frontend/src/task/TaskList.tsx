// The run's tasks beside the open task: virtualized, live-patched, j/k to move, Enter to open.
// One tab stop (a roving tabindex): Tab reaches the selected row (else the first one shown);
// ↑/↓ (j/k), Home/End and PageUp/PageDown move the focus within, Enter or Space opens.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useNavigate } from "react-router";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useTaskList } from "../api/runDetail";
import type { Task } from "../api/types";
import { formatPath } from "../nav/viewState";
import { useListKeys } from "../shell/shortcuts";
import { ErrorBox, Loading, Empty, isNotFound } from "../ui/states";
import { formatDuration, taskDuration } from "../ui/format";
import { useNow } from "../ui/useNow";
import { StatusWhy } from "../triage/StatusWhy";

const ROW = 30;

export function TaskList({ flow, run, step, task }: { flow: string; run: string; step: string; task: string }) {
  const [scope, setScope] = useState<"step" | "run">("step");
  const list = useTaskList(flow, run, scope === "step" ? step : null);
  const tasks = useMemo(() => list.data?.pages.flatMap((p) => p.data) ?? [], [list.data]);
  // Running rows count up as the task's own header does (one shared clock, only while one runs).
  const now = useNow(useMemo(() => tasks.some((t) => t.status === "running"), [tasks]));
  const navigate = useNavigate();
  const scrollRef = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({ count: tasks.length, getScrollElement: () => scrollRef.current, estimateSize: () => ROW, overscan: 20 });
  const currentIndex = tasks.findIndex((t) => t.step_name === step && t.task_id === task);
  const [selected, setSelected] = useState(currentIndex);
  useEffect(() => setSelected(currentIndex), [currentIndex]);

  const items = v.getVirtualItems();
  const last = items[items.length - 1];
  useEffect(() => {
    if (last && last.index >= tasks.length - 20 && list.hasNextPage && !list.isFetchingNextPage) void list.fetchNextPage();
  }, [last, tasks.length, list]);
  const scrolled = useRef(false);
  useEffect(() => {
    if (!scrolled.current && currentIndex >= 0) {
      scrolled.current = true;
      v.scrollToIndex(currentIndex, { align: "center" });
    }
  }, [currentIndex, v]);

  const open = useCallback((i: number) => {
    const t: Task | undefined = tasks[i];
    if (t) navigate(formatPath({ flow, run, step: t.step_name, task: t.task_id }));
  }, [tasks, navigate, flow, run]);
  const select = useCallback((i: number) => { setSelected(i); v.scrollToIndex(i, { align: "auto" }); }, [v]);
  useListKeys(tasks.length, selected, select, open);

  // The row holding the list's one tab stop: the selected one when it is rendered, else the first
  // rendered one (a virtualized list has no element for a row scrolled far away).
  const tabStop = items.some((i) => i.index === selected) ? selected : (items[0]?.index ?? -1);
  // While the focus is in the list, it follows the selection (moved by ↑/↓, j/k, Home/End).
  const listRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const box = listRef.current;
    if (!box || !box.contains(document.activeElement) || selected < 0) return;
    const row = box.querySelector<HTMLElement>(`[data-index="${selected}"]`);
    if (row && row !== document.activeElement) row.focus({ preventScroll: true });
  }, [selected, items]);
  const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? ROW * 10) / ROW) - 1);
  const onRowKey = (e: React.KeyboardEvent, index: number) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const to = e.key === "Home" ? 0 : e.key === "End" ? tasks.length - 1
      : e.key === "PageDown" ? Math.min(tasks.length - 1, index + page)
        : e.key === "PageUp" ? Math.max(0, index - page) : null;
    if (to !== null) {
      e.preventDefault();
      select(to);
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      open(index);
    }
  };

  return (
    <aside className="task-list" aria-label="Tasks">
      <div className="toolbar" style={{ padding: "6px 10px" }}>
        <span className="seg" role="group" aria-label="Task list scope">
          <button type="button" aria-pressed={scope === "step"} onClick={() => setScope("step")}>{step}</button>
          <button type="button" aria-pressed={scope === "run"} onClick={() => setScope("run")}>all steps</button>
        </span>
        <span className="muted" style={{ marginLeft: "auto" }}>{tasks.length}{list.hasNextPage ? "+" : ""}</span>
      </div>
      {/* A 404 (the run does not exist) is the page's to say, once, with the way back. */}
      {list.isPending ? <Loading label="Loading tasks" /> : list.isError ? (isNotFound(list.error) ? null : <ErrorBox error={list.error} />) : tasks.length === 0 ? <Empty>No tasks.</Empty> : (
        <div className="vtable" ref={scrollRef}>
          <div style={{ height: v.getTotalSize(), position: "relative" }} ref={listRef} role="listbox"
            aria-label={scope === "step" ? `Tasks of ${step}` : "Tasks of the run"} data-testid="task-rows">
            {items.map((item) => {
              const t = tasks[item.index]!;
              const current = item.index === currentIndex;
              return (
                <div key={t.pathspec} className={`vrow${current || item.index === selected ? " selected" : ""}`} style={{ top: item.start }}
                  onClick={() => open(item.index)} data-task={t.pathspec} aria-current={current ? "true" : undefined}
                  role="option" aria-selected={item.index === selected} tabIndex={item.index === tabStop ? 0 : -1}
                  data-index={item.index} onFocus={(e) => { if (e.target === e.currentTarget && item.index !== selected) setSelected(item.index); }}
                  onKeyDown={(e) => { if (e.target === e.currentTarget) onRowKey(e, item.index); }}>
                  <span className={`badge status-${t.status}`} style={{ padding: 0, background: "none" }} title={t.status}><span className="dot" /></span>
                  {/* Asks the server only when opened: a row costs a button, not a request. */}
                  <StatusWhy flow={flow} run={run} task={{ step: t.step_name, id: t.task_id }} compact tabIndex={-1} />
                  <span className="cell mono">
                    {scope === "run" && <span className="muted">{t.step_name}/</span>}{t.task_id}
                    {t.foreach_value !== null && t.foreach_value !== undefined && <span className="faint"> [{t.foreach_value}]</span>}
                    {t.attempt > 0 && <span className="faint" title="attempts"> ×{t.attempt + 1}</span>}
                  </span>
                  <span className="muted num" style={{ fontSize: 11.5 }}>{formatDuration(taskDuration(t, now))}</span>
                </div>
              );
            })}
          </div>
        </div>
      )}
    </aside>
  );
}
