// Run list and single run queries, and how websocket events patch them.
import { useInfiniteQuery, useQuery, useQueryClient, type InfiniteData, type QueryClient } from "@tanstack/react-query";
import { apiUrl, getJson } from "./client";
import type { Dag, ListPage, Run, RunGroup } from "./types";
import { runPageUrl, runPath } from "./paths";
import { resolveRange, type RunListFilters } from "../nav/viewState";

const ORDER: Record<string, string> = {
  created: "created", started: "created", finished: "finished", duration: "duration",
};

/** REST query parameters for a run-list filter set (the same ones the websocket resource carries). */
export function runListQuery(f: RunListFilters, now: number): Record<string, string | string[] | null> {
  const { after, before } = resolveRange(f, now);
  const order = ORDER[f.sort] ?? "created";
  return {
    status: f.status.length ? f.status : null,
    flow: f.flow,
    user: f.user,
    tag: f.tags.length ? f.tags : null,
    created_after: after === null ? null : String(after),
    created_before: before === null ? null : String(before),
    order: `${f.dir === "asc" ? "" : "-"}${order}`,
  };
}

export function useRunList(query: Record<string, string | string[] | null>, limit = 50, enabled = true) {
  return useInfiniteQuery({
    queryKey: ["runs", query, limit],
    enabled,
    queryFn: ({ pageParam, signal }) =>
      getJson<ListPage<Run>>(apiUrl("/runs", { ...query, limit, cursor: pageParam }), signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });
}

/** The run's answer with `?include=dag` (backend/api/runs.py). */
interface RunPageAnswer {
  data: Run;
  included?: { dag?: { data: Dag } };
}

/** The run, for useRun. On the run page (`page`) while its DAG is not cached: the run and its DAG in
 * one request (runPageUrl, which src/early.ts starts for a run deep link), the DAG stored under
 * useDag's key so the page's views do not ask for it again. Otherwise (refetches, the task page,
 * a DAG already cached) the run alone; the DAG's own refetches keep using /dag. */
export async function fetchRun(client: QueryClient, flow: string, run: string, page: boolean,
  signal?: AbortSignal): Promise<Run> {
  if (page && client.getQueryData(["dag", flow, run]) === undefined) {
    const answer = await getJson<RunPageAnswer>(runPageUrl(flow, run), signal);
    const dag = answer.included?.dag;
    if (dag) client.setQueryData<Dag>(["dag", flow, run], dag.data);
    return answer.data;
  }
  return getJson<{ data: Run }>(apiUrl(runPath(flow, run)), signal).then((r) => r.data);
}

/** One run; `page`: asked by the run page (see fetchRun). */
export function useRun(flow: string | null, run: string | null, page = false) {
  const client = useQueryClient();
  return useQuery({
    queryKey: ["run", flow, run],
    enabled: Boolean(flow && run),
    queryFn: ({ signal }) => fetchRun(client, flow ?? "", run ?? "", page, signal),
  });
}

export function maxSeq(items: readonly { seq?: number }[]): number | null {
  let best: number | null = null;
  for (const it of items) if (typeof it.seq === "number" && (best === null || it.seq > best)) best = it.seq;
  return best;
}

/** `runs` with `run` merged into its entry; the same array when it is not there. */
function replaced(runs: Run[], run: Run): Run[] {
  const i = runs.findIndex((r) => r.pathspec === run.pathspec);
  if (i < 0) return runs;
  const data = runs.slice();
  data[i] = { ...data[i]!, ...run };
  return data;
}

/** Replaces a run wherever it appears in cached run lists (flat, or inside the groups of a grouped
 * list), and its own query. */
export function patchRun(client: QueryClient, run: Run): void {
  client.setQueriesData<InfiniteData<ListPage<Run | RunGroup>>>({ queryKey: ["runs"] }, (old) => {
    if (!old) return old;
    let changed = false;
    const pages = old.pages.map((page) => {
      let pageChanged = false;
      const data = page.data.map((item) => {
        if ("runs" in item && Array.isArray(item.runs)) {           // a group of a grouped list
          const runs = replaced(item.runs, run);
          if (runs === item.runs) return item;
          pageChanged = true;
          return { ...item, runs };
        }
        if ((item as Run).pathspec !== run.pathspec) return item;
        pageChanged = true;
        return { ...(item as Run), ...run };
      });
      if (!pageChanged) return page;
      changed = true;
      return { ...page, data };
    });
    return changed ? { ...old, pages } : old;
  });
  client.setQueryData<Run>(["run", run.flow_id, run.run_id], (old) => (old ? { ...old, ...run } : old));
}

/** Puts new runs at the head of one cached list (when the user is at the top and wants them). */
export function prependRuns(client: QueryClient, key: unknown[], runs: Run[]): void {
  client.setQueryData<InfiniteData<ListPage<Run>>>(key, (old) => {
    if (!old || old.pages.length === 0) return old;
    const seen = new Set(old.pages.flatMap((p) => p.data.map((r) => r.pathspec)));
    const fresh = runs.filter((r) => !seen.has(r.pathspec));
    if (!fresh.length) return old;
    const [first, ...rest] = old.pages;
    return { ...old, pages: [{ ...first!, data: [...fresh, ...first!.data] }, ...rest] };
  });
}
