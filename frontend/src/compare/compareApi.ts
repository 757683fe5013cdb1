// The /api/compare response (docs/api.md "Compare") and the query that fetches it.
import { useQuery } from "@tanstack/react-query";
import { apiUrl, getJson } from "../api/client";
import type { Comparison } from "../api/types";

// Parts of a Comparison, named for the components that draw them (types generated from OpenAPI).
export type { Comparison };
export type ValueDiff = Comparison["parameters"][number];
export type StepDiff = Comparison["steps"][number];
export type StepSide = NonNullable<StepDiff["a"]>;
export type Timing = keyof NonNullable<StepDiff["ratio"]>;
export type ArtifactDiff = Comparison["artifacts"][number];
export type ArtifactSide = NonNullable<ArtifactDiff["a"]>;
export type Failure = NonNullable<Comparison["failures"]["a"]>;
export type Change = ArtifactDiff["status"];

export function useComparison(a: string | null, b: string | null, steps: string[]) {
  return useQuery({
    queryKey: ["compare", a, b, steps],
    enabled: Boolean(a && b),
    queryFn: ({ signal }) =>
      getJson<{ data: Comparison }>(apiUrl("/compare", { a, b, steps: steps.length ? steps.join(",") : null }), signal)
        .then((r) => r.data),
  });
}
