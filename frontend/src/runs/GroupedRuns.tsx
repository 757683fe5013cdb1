// Runs grouped by flow or user: the server returns a page of groups, each with its first runs
// and a keyset cursor (never OFFSET, never a count). Groups come in name order (A→Z: stable while
// runs arrive, and a flow or user is found where the alphabet puts it); the chosen sort orders the
// runs inside each group, and the line under the header says both.
// "Show more" turns a group into its own run list (the same /api/runs with the group's flow or
// user, keyset-paged): a cached list like the flat one, so the live feed patches its runs, a new
// run re-asks it, and a silent running run in it is re-asked as everywhere else.
import { useEffect, useMemo, useRef, useState } from "react";
import { useInfiniteQuery, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { apiUrl, getJson } from "../api/client";
import { maxSeq, patchRun } from "../api/runs";
import { useLiveResource } from "../live/useLive";
import { useHeartbeatRecheck } from "../live/heartbeatRecheck";
import type { ListPage, Run, RunGroup } from "../api/types";
import type { RunListFilters, RunSortKey } from "../nav/viewState";
import { Empty, ErrorBox, Loading } from "../ui/states";
import { RunRow, RUN_COLUMNS } from "./RunRow";
import { SortHeader } from "./RunTable";

type Query = Record<string, string | string[] | null>;

/** The query key of a group's own run list (after "Show more"); under ["runs"], so patchRun reaches it. */
const groupRunsKey = (field: string, group: string | null, query: Query) => ["runs", "group-runs", field, group, query];

function Group({ g, query, field, onOpen, onTag }: {
  g: RunGroup; query: Query; field: "flow" | "user"; onOpen: (r: Run) => void; onTag: (t: string) => void;
}) {
  const [expanded, setExpanded] = useState(false);
  const more = useInfiniteQuery({
    queryKey: groupRunsKey(field, g.group, query),
    enabled: expanded,
    queryFn: ({ pageParam, signal }) =>
      getJson<ListPage<Run>>(apiUrl("/runs", { ...query, [field]: g.group ?? "", cursor: pageParam, limit: 20 }), signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });
  const own = useMemo(() => more.data?.pages.flatMap((p) => p.data), [more.data]);
  const runs = expanded && own ? own : g.runs;
  const hasMore = expanded && own ? more.hasNextPage : Boolean(g.next);
  const busy = expanded && (more.isPending || more.isFetchingNextPage);
  useHeartbeatRecheck(expanded ? own : undefined, more.dataUpdatedAt, more.refetch);
  const showMore = () => {
    if (!expanded) setExpanded(true);
    else void more.fetchNextPage();
  };
  return (
    <section data-group={g.group ?? ""}>
      <div className="group-head" style={{ position: "static" }}>
        {g.group ?? <span className="muted">(none)</span>}
        <span className="muted" style={{ fontWeight: 400 }} data-testid="group-count">{runs.length}{hasMore ? "+" : ""} {runs.length === 1 && !hasMore ? "run" : "runs"}</span>
      </div>
      {runs.map((r) => (
        <RunRow key={r.pathspec} run={r} selected={false} onOpen={onOpen} onTag={onTag} style={{ position: "relative" }} />
      ))}
      {more.isError ? <ErrorBox error={more.error} retry={() => void more.refetch()} /> : null}
      {hasMore && (
        <div style={{ padding: "6px 12px" }}>
          <button type="button" className="btn btn-small" disabled={busy} onClick={showMore}>
            {busy ? "Loading…" : "Show more"}
          </button>
        </div>
      )}
    </section>
  );
}

/** "flows A→Z · runs in each by started, newest first": the order the list is in, in words. */
function GroupOrder({ filters, field }: { filters: RunListFilters; field: "flow" | "user" }) {
  const key = filters.sort === "created" ? "started" : filters.sort;
  const label = (RUN_COLUMNS.find((c) => c.key === key)?.label ?? key).toLowerCase();
  const desc = filters.dir !== "asc";
  const how = key === "duration" ? (desc ? "longest first" : "shortest first")
    : desc ? "newest first" : "oldest first";
  return (
    <div className="group-order muted" data-testid="group-order">
      {field === "flow" ? "Flows" : "Users"} by name, A→Z · runs in each by {label} {desc ? "▼" : "▲"} ({how})
    </div>
  );
}

export function GroupedRuns({ filters, query, onOpen, onTag, onSort }: {
  filters: RunListFilters; query: Query;
  onOpen: (r: Run) => void; onTag: (t: string) => void; onSort: (k: RunSortKey) => void;
}) {
  const field = filters.group === "user" ? "user" : "flow";
  const groups = useInfiniteQuery({
    queryKey: ["runs", "groups", field, query],
    queryFn: ({ pageParam, signal }) =>
      getJson<ListPage<RunGroup>>(apiUrl("/runs", { ...query, group_by: field, group_limit: 5, limit: 20, cursor: pageParam }), signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });
  const list = useMemo(() => groups.data?.pages.flatMap((p) => p.data) ?? [], [groups.data]);
  // Live, as the flat list is: the same run-list feed (the filters without the grouping). A change
  // to a shown run is patched in place; a run not shown (a new one) re-asks the groups, at most
  // once a second, so it lands in its group in the list's order with the group's count.
  // A run shown in a group's own list (after "Show more") is patched there too (patchRun), and a
  // new run re-asks those lists as well as the groups.
  const client = useQueryClient();
  const shown = useMemo(() => list.flatMap((g) => g.runs), [list]);
  const shownRef = useRef(shown);
  shownRef.current = shown;
  const inGroupLists = (pathspec: string) => client
    .getQueriesData<InfiniteData<ListPage<Run>>>({ queryKey: ["runs", "group-runs", field] })
    .some(([, d]) => d?.pages.some((p) => p.data.some((r) => r.pathspec === pathspec)));
  const refresh = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => { if (refresh.current) clearTimeout(refresh.current); }, []);
  useLiveResource("runs", groups.isSuccess ? apiUrl("/runs", query) : null, maxSeq(shown), (e) => {
    patchRun(client, e.data);
    if (shownRef.current.some((r) => r.pathspec === e.data.pathspec) || inGroupLists(e.data.pathspec)) return;
    refresh.current ??= setTimeout(() => {
      refresh.current = null;
      void client.invalidateQueries({ queryKey: ["runs", "groups", field, query] });
      void client.invalidateQueries({ queryKey: ["runs", "group-runs", field] });
    }, 1000);
  });
  useHeartbeatRecheck(shown, groups.dataUpdatedAt, groups.refetch);
  return (
    <div className="vtable">
      <SortHeader filters={filters} onSort={onSort} />
      <GroupOrder filters={filters} field={field} />
      {groups.isPending && <Loading label={`Loading runs by ${field}`} />}
      {groups.isError && <ErrorBox error={groups.error} retry={() => void groups.refetch()} />}
      {groups.isSuccess && list.length === 0 && <Empty>No runs match these filters.</Empty>}
      {list.map((g) => (
        <Group key={g.group ?? "(none)"} g={g} query={query} field={field} onOpen={onOpen} onTag={onTag} />
      ))}
      {groups.hasNextPage && (
        <div style={{ padding: 12 }}>
          <button type="button" className="btn" disabled={groups.isFetchingNextPage} onClick={() => void groups.fetchNextPage()}>More {field}s</button>
        </div>
      )}
    </div>
  );
}
