// Queries about one run: its DAG, its level-of-detail timeline and its task list.
import { keepPreviousData, useInfiniteQuery, useQuery, type InfiniteData, type QueryClient } from "@tanstack/react-query";
import { apiUrl, getJson } from "./client";
import type { Dag, ListPage, Task, Timeline } from "./types";
import { runPath } from "./paths";

export { runPath };

export function useDag(flow: string, run: string, enabled = true) {
  return useQuery({
    queryKey: ["dag", flow, run],
    enabled,
    queryFn: ({ signal }) => getJson<{ data: Dag }>(apiUrl(`${runPath(flow, run)}/dag`), signal).then((r) => r.data),
  });
}

export interface TimelineRequest {
  start: number | null;
  end: number | null;
  width: number;
  rows: number;
  rowStart: number;
  /** Server rows to cover from rowStart; rows === span gives one task per lane, fewer rows aggregate. */
  span: number | null;
  sort: string;
  group: string;
  status: string[];
  steps: string[];
}

export function useTimeline(flow: string, run: string, req: TimelineRequest, live: boolean) {
  return useQuery<Timeline>({
    queryKey: ["timeline", flow, run, req],
    enabled: req.width > 0 && req.rows > 0,
    placeholderData: keepPreviousData,
    // While the run runs, the timeline is re-asked on each task change (see RunPage) and at
    // least every few seconds so running bars grow; a finished run's timeline never changes.
    refetchInterval: live ? 5000 : false,
    queryFn: ({ signal }) =>
      getJson<{ data: Timeline }>(
        apiUrl(`${runPath(flow, run)}/timeline`, {
          start: req.start, end: req.end, width: Math.round(req.width), rows: req.rows,
          row_start: req.rowStart, span: req.span, sort: req.sort, group: req.group,
          status: req.status.length ? req.status.join(",") : null,
          step: req.steps.length ? req.steps.join(",") : null,
        }),
        signal,
      ).then((r) => r.data),
  });
}

export function useTaskList(flow: string, run: string, step: string | null) {
  return useInfiniteQuery({
    queryKey: ["tasks", flow, run, step],
    queryFn: ({ pageParam, signal }) =>
      getJson<ListPage<Task>>(apiUrl(`${runPath(flow, run)}/tasks`, { step, limit: 500, cursor: pageParam }), signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });
}

/** Upserts a task into the cached task lists of its run (insert goes at the end: lists are by creation). */
export function patchTask(client: QueryClient, task: Task): void {
  client.setQueriesData<InfiniteData<ListPage<Task>>>({ queryKey: ["tasks", task.flow_id, task.run_id] }, (old) => {
    if (!old) return old;
    let found = false;
    const pages = old.pages.map((page) => {
      const i = page.data.findIndex((t) => t.pathspec === task.pathspec);
      if (i < 0) return page;
      found = true;
      const data = page.data.slice();
      data[i] = { ...data[i], ...task };
      return { ...page, data };
    });
    if (!found && pages.length) {
      const last = pages[pages.length - 1]!;
      // Only append when the list is fully loaded; otherwise the task arrives with its page.
      if (last.next === null) pages[pages.length - 1] = { ...last, data: [...last.data, task] };
    }
    return { ...old, pages };
  });
  client.setQueryData<Task>(["task", task.pathspec], (old) => (old ? { ...old, ...task } : old));
}
