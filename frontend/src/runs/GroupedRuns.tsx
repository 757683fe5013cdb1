// Runs grouped by flow or user: the server returns a page of groups, each with its first runs
// and a keyset cursor; "show more" continues one group from its cursor (never OFFSET, never a count).
import { useEffect, useMemo, useRef, useState } from "react";
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { apiUrl, getJson } from "../api/client";
import { maxSeq, patchRun } from "../api/runs";
import { useLiveResource } from "../live/useLive";
import { useHeartbeatRecheck } from "../live/heartbeatRecheck";
import type { ListPage, Run, RunGroup } from "../api/types";
import type { RunListFilters, RunSortKey } from "../nav/viewState";
import { Empty, ErrorBox, Loading } from "../ui/states";
import { RunRow } from "./RunRow";
import { SortHeader } from "./RunTable";

type Query = Record<string, string | string[] | null>;

function Group({ g, query, field, onOpen, onTag }: {
  g: RunGroup; query: Query; field: "flow" | "user"; onOpen: (r: Run) => void; onTag: (t: string) => void;
}) {
  const [more, setMore] = useState<{ runs: Run[]; next: string | null; busy: boolean; error: unknown }>(
    { runs: [], next: g.next, busy: false, error: null });
  const runs = [...g.runs, ...more.runs];
  const showMore = () => {
    setMore((m) => ({ ...m, busy: true }));
    getJson<ListPage<Run>>(apiUrl("/runs", { ...query, [field]: g.group ?? "", cursor: more.next, limit: 20 }))
      .then((page) => setMore((m) => ({ runs: [...m.runs, ...page.data], next: page.next, busy: false, error: null })))
      .catch((error: unknown) => setMore((m) => ({ ...m, busy: false, error })));
  };
  return (
    <section data-group={g.group ?? ""}>
      <div className="group-head" style={{ position: "static" }}>
        {g.group ?? <span className="muted">(none)</span>}
        <span className="muted" style={{ fontWeight: 400 }} data-testid="group-count">{runs.length}{more.next ? "+" : ""} {runs.length === 1 && !more.next ? "run" : "runs"}</span>
      </div>
      {runs.map((r) => (
        <RunRow key={r.pathspec} run={r} selected={false} onOpen={onOpen} onTag={onTag} style={{ position: "relative" }} />
      ))}
      {more.error ? <ErrorBox error={more.error} /> : null}
      {more.next && (
        <div style={{ padding: "6px 12px" }}>
          <button type="button" className="btn btn-small" disabled={more.busy} onClick={showMore}>
            {more.busy ? "Loading…" : "Show more"}
          </button>
        </div>
      )}
    </section>
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
  const client = useQueryClient();
  const shown = useMemo(() => list.flatMap((g) => g.runs), [list]);
  const shownRef = useRef(shown);
  shownRef.current = shown;
  const refresh = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => { if (refresh.current) clearTimeout(refresh.current); }, []);
  useLiveResource("runs", groups.isSuccess ? apiUrl("/runs", query) : null, maxSeq(shown), (e) => {
    patchRun(client, e.data);
    if (shownRef.current.some((r) => r.pathspec === e.data.pathspec)) return;
    refresh.current ??= setTimeout(() => {
      refresh.current = null;
      void client.invalidateQueries({ queryKey: ["runs", "groups", field, query] });
    }, 1000);
  });
  useHeartbeatRecheck(shown, groups.dataUpdatedAt, groups.refetch);
  return (
    <div className="vtable">
      <SortHeader filters={filters} onSort={onSort} />
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
