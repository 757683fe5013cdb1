// Runs grouped by flow or user: one section per group, each with its own small keyset page
// and a "show more" that fetches that group's next page (never OFFSET, never a count).
import { useCompletions } from "../api/autocomplete";
import { useRunList } from "../api/runs";
import type { Run } from "../api/types";
import type { RunListFilters, RunSortKey } from "../nav/viewState";
import { Empty, ErrorBox, Loading } from "../ui/states";
import { RunRow } from "./RunRow";
import { SortHeader } from "./RunTable";

function Group({ name, query, onOpen, onTag }: {
  name: string; query: Record<string, string | string[] | null>; onOpen: (r: Run) => void; onTag: (t: string) => void;
}) {
  const list = useRunList(query, 5);
  const runs = list.data?.pages.flatMap((p) => p.data) ?? [];
  if (list.isSuccess && runs.length === 0) return null;
  return (
    <section className="group" data-group={name}>
      <div className="group-head" style={{ position: "static" }}>
        {name}
        <span className="muted" style={{ fontWeight: 400 }}>{runs.length}{list.hasNextPage ? "+" : ""} runs</span>
      </div>
      {list.isPending && <Loading />}
      {list.isError && <ErrorBox error={list.error} />}
      {runs.map((r) => (
        <RunRow key={r.pathspec} run={r} selected={false} onOpen={onOpen} onTag={onTag} style={{ position: "relative" }} />
      ))}
      {list.hasNextPage && (
        <div style={{ padding: "6px 12px" }}>
          <button type="button" className="btn btn-small" disabled={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
            Show more
          </button>
        </div>
      )}
    </section>
  );
}

export function GroupedRuns({ filters, query, onOpen, onTag, onSort }: {
  filters: RunListFilters; query: Record<string, string | string[] | null>;
  onOpen: (r: Run) => void; onTag: (t: string) => void; onSort: (k: RunSortKey) => void;
}) {
  const kind = filters.group === "flow" ? "flows" : "users";
  const fixed = filters.group === "flow" ? filters.flow : filters.user;
  const names = useCompletions(fixed ? null : kind, "");
  const groups = fixed ? [fixed] : names.data ?? [];
  return (
    <div className="vtable">
      <SortHeader filters={filters} onSort={onSort} />
      {!fixed && names.isPending && <Loading label={`Loading ${kind}`} />}
      {names.isError && <ErrorBox error={names.error} />}
      {!fixed && names.isSuccess && groups.length === 0 && <Empty>No {kind} yet.</Empty>}
      {groups.map((g) => (
        <Group key={g} name={g} query={{ ...query, [filters.group]: g }} onOpen={onOpen} onTag={onTag} />
      ))}
    </div>
  );
}
