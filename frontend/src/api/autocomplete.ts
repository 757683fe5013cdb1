// Per-segment autocomplete for the go-to box and the filter chips.
import { useQuery } from "@tanstack/react-query";
import { apiUrl, getJson } from "./client";

export type CompletionKind = "flows" | "runs" | "steps" | "tags" | "users" | "tasks";

interface Completion {
  value?: string;
  name?: string;
  label?: string;
}

/** Normalizes whatever the autocomplete endpoint returns (strings or objects) into strings. */
export function completionValues(data: unknown): string[] {
  const rows = Array.isArray(data) ? data : [];
  return rows
    .map((r: unknown) => {
      if (typeof r === "string" || typeof r === "number") return String(r);
      const c = r as Completion & Record<string, unknown>;
      return c.value ?? c.name ?? c.label ??
        (typeof c.flow_id === "string" ? c.flow_id : undefined) ??
        (c.run_id !== undefined ? String(c.run_id) : undefined) ??
        (typeof c.step_name === "string" ? c.step_name : undefined) ??
        (c.task_id !== undefined ? String(c.task_id) : undefined) ?? "";
    })
    .filter((v) => v !== "");
}

export function useCompletions(kind: CompletionKind | null, prefix: string, scope: Record<string, string | null> = {}) {
  return useQuery({
    queryKey: ["autocomplete", kind, prefix, scope],
    enabled: kind !== null,
    staleTime: 10_000,
    queryFn: ({ signal }) =>
      getJson<{ data: unknown }>(apiUrl(`/autocomplete/${kind}`, { q: prefix, ...scope, limit: 20 }), signal)
        // Runs come back as "Flow/12": the caller completes one segment, so keep the last one.
        .then((r) => completionValues(r.data).map((v) => (kind === "runs" ? v.slice(v.lastIndexOf("/") + 1) : v))),
  });
}
