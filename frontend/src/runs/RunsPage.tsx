// Home: every run (or one flow's runs), filtered, sorted, grouped, live.
import { useCallback, useMemo, useRef, useState } from "react";
import { useNavigate } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { apiUrl } from "../api/client";
import { maxSeq, patchRun, prependRuns, runListQuery, useRunList } from "../api/runs";
import type { Run } from "../api/types";
import { useLiveResource } from "../live/useLive";
import { useHeartbeatRecheck } from "../live/heartbeatRecheck";
import { serverNow } from "../live/serverClock";
import { formatPath, type RunListFilters, type RunSortKey } from "../nav/viewState";
import { useView } from "../nav/useView";
import { ErrorBox, Loading } from "../ui/states";
import { RunsEmpty } from "./RunsEmpty";
import { PluginSlot } from "../plugins/PluginSlot";
import { RunFilters } from "./RunFilters";
import { SavedViews } from "./SavedViews";
import { RunTable } from "./RunTable";
import { GroupedRuns } from "./GroupedRuns";

export function RunsPage() {
  const [view, setView] = useView();
  const navigate = useNavigate();
  const client = useQueryClient();
  const filters = view.runs;
  // The time range is resolved once per filter change, so the query key stays stable while open.
  const now = useMemo(() => serverNow(), [filters]);   // ranges end at the server's now
  const query = useMemo(() => runListQuery(filters, now), [filters, now]);
  // Grouped, the groups are the list (GroupedRuns): the flat one is neither asked nor followed.
  const list = useRunList(query, 50, filters.group === "none");
  const runs = useMemo(() => list.data?.pages.flatMap((p) => p.data) ?? [], [list.data]);

  const atTop = useRef(true);
  // New runs belong at the top only when the list is newest-first; otherwise the pill re-asks the list.
  const newestFirst = filters.sort === "created" && filters.dir === "desc";
  const [pending, setPending] = useState<Run[]>([]);
  const key = useMemo(() => ["runs", query, 50], [query]);
  const resource = list.isSuccess ? apiUrl("/runs", query) : null;
  useLiveResource("runs", resource, maxSeq(runs), (event) => {
    const run = event.data;
    if (event.type === "update" || runs.some((r) => r.pathspec === run.pathspec)) {
      patchRun(client, run);
    } else if (atTop.current && newestFirst) {
      prependRuns(client, key, [run]);
    } else {
      setPending((p) => (p.some((r) => r.pathspec === run.pathspec) ? p : [run, ...p]));
    }
  });

  const set = useCallback((patch: Partial<RunListFilters>) => {
    setPending([]);
    setView((s) => {
      const runs = { ...s.runs, ...patch };
      const path = patch.flow !== undefined && s.path.flow ? { ...s.path, flow: patch.flow } : s.path;
      return { ...s, runs, path };
    }, { replace: true });
  }, [setView]);
  const onSort = useCallback((k: RunSortKey) => {
    const sort = k === "started" ? "created" : k;
    set({ sort, dir: filters.sort === sort && filters.dir === "desc" ? "asc" : "desc" });
  }, [filters.sort, filters.dir, set]);
  const onOpen = useCallback((r: Run) => navigate(formatPath({ flow: r.flow_id, run: r.run_id })), [navigate]);
  const onTag = useCallback((t: string) => {
    if (!filters.tags.includes(t)) set({ tags: [...filters.tags, t] });
  }, [filters.tags, set]);

  // A run killed while shown turns failed with no event: re-ask the list when one falls silent.
  useHeartbeatRecheck(runs, list.dataUpdatedAt, list.refetch);

  const loadMore = useCallback(() => void list.fetchNextPage(), [list]);

  return (
    <div className="run-body" style={{ position: "relative" }}>
      <PluginSlot name="home-header" context={{}} />
      <RunFilters filters={filters} set={set} flowFixed={Boolean(view.path.flow)} end={<SavedViews />} />
      {filters.group !== "none" ? (
        <GroupedRuns filters={filters} query={query} onOpen={onOpen} onTag={onTag} onSort={onSort} />
      ) : list.isPending ? (
        <Loading label="Loading runs" />
      ) : list.isError ? (
        <ErrorBox error={list.error} retry={() => void list.refetch()} />
      ) : runs.length === 0 ? (
        <RunsEmpty filters={filters} flow={view.path.flow} />
      ) : (
        <RunTable
          runs={runs} filters={filters} onSort={onSort}
          hasMore={list.hasNextPage} loadMore={loadMore} loadingMore={list.isFetchingNextPage}
          pending={pending.length}
          showPending={() => {
            if (newestFirst) prependRuns(client, key, pending);
            else void client.invalidateQueries({ queryKey: key });
            setPending([]);
          }}
          onOpen={onOpen} onTag={onTag}
          onScrollTop={(top) => { atTop.current = top; }}
        />
      )}
    </div>
  );
}
