// The /api/compare response (docs/api.md "Compare") and the query that fetches it.
import { useQuery } from "@tanstack/react-query";
import { apiUrl, getJson } from "../api/client";
import type { Run, TaskCounts } from "../api/types";

export type Change = "added" | "removed" | "changed" | "unchanged";

export interface ValueDiff { name: string; status: Change; a: unknown; b: unknown }

export interface StepSide {
  task_counts: TaskCounts;
  wall_ms: number | null;
  task_total_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
}

export type Timing = "wall_ms" | "task_total_ms" | "p50_ms" | "p95_ms";

export interface StepDiff {
  step_name: string;
  status: Change;
  a: StepSide | null;
  b: StepSide | null;
  ratio: Record<Timing, number | null> | null;
}

export interface ArtifactSide {
  sha: string;
  type: string | null;
  size: number | null;
  preview: string | null;
  task_id: string;
  n_tasks: number;
}

export interface ArtifactDiff { step_name: string; name: string; status: Change; a: ArtifactSide | null; b: ArtifactSide | null }

export interface Failure {
  step_name: string;
  task_id: string;
  attempt: number;
  pathspec: string;
  exception_type: string | null;
  exception_message: string | null;
  status_reason: string | null;
  failed_at: number | null;
}

export interface Comparison {
  a: Run;
  b: Run;
  same_flow: boolean;
  note: string | null;
  parameters: ValueDiff[];
  tags: { added: string[]; removed: string[]; unchanged: string[] };
  steps: StepDiff[];
  artifact_steps: string[];
  artifacts: ArtifactDiff[];
  artifacts_truncated: boolean;
  failures: { a: Failure | null; b: Failure | null };
}

export function useComparison(a: string | null, b: string | null, steps: string[]) {
  return useQuery({
    queryKey: ["compare", a, b, steps],
    enabled: Boolean(a && b),
    queryFn: ({ signal }) =>
      getJson<{ data: Comparison }>(apiUrl("/compare", { a, b, steps: steps.length ? steps.join(",") : null }), signal)
        .then((r) => r.data),
  });
}
