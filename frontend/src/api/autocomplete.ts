// Per-segment autocomplete for the go-to box and the filter chips.
import { useQuery } from "@tanstack/react-query";
import { apiUrl, getJson } from "./client";
import type { ListPage, Suggestion } from "./types";

export type CompletionKind = "flows" | "runs" | "steps" | "tags" | "users" | "tasks";

export function useCompletions(kind: CompletionKind | null, prefix: string, scope: Record<string, string | null> = {}) {
  return useQuery({
    queryKey: ["autocomplete", kind, prefix, scope],
    enabled: kind !== null,
    staleTime: 10_000,
    queryFn: ({ signal }) =>
      getJson<ListPage<Suggestion>>(apiUrl(`/autocomplete/${kind}`, { q: prefix, ...scope, limit: 20 }), signal)
        // Runs come back as "Flow/12": the caller completes one segment, so keep the last one.
        .then((r) => r.data.map((v) => (kind === "runs" ? v.slice(v.lastIndexOf("/") + 1) : v))),
  });
}
