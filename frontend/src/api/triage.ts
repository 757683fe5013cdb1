// Queries of the triage resources (docs/triage.md): the failure digest, status explanations, the
// critical path, step durations, the log diff and the run summary.
import { useQuery } from "@tanstack/react-query";
import { apiUrl, getJson } from "./client";
import { runPath } from "./paths";
import type { CriticalPath, FailureDigest, LogDiff, RunDurations, RunSummary, StatusExplanation } from "./types";

function runQuery<T>(key: string, flow: string, run: string, suffix: string, live: boolean, enabled = true) {
  return {
    queryKey: [key, flow, run],
    enabled,
    // A running run's answers change as tasks finish; a finished one's never do.
    refetchInterval: live ? 10_000 : (false as const),
    queryFn: ({ signal }: { signal: AbortSignal }) =>
      getJson<{ data: T }>(apiUrl(`${runPath(flow, run)}/${suffix}`), signal).then((r) => r.data),
  };
}

export const useFailureDigest = (flow: string, run: string, live: boolean) =>
  useQuery(runQuery<FailureDigest>("failures", flow, run, "failures", live));
export const useCriticalPath = (flow: string, run: string, live: boolean, enabled = true) =>
  useQuery(runQuery<CriticalPath>("critical-path", flow, run, "critical-path", live, enabled));
export const useDurations = (flow: string, run: string, live: boolean) =>
  useQuery(runQuery<RunDurations>("durations", flow, run, "durations", live));
export const useRunSummary = (flow: string, run: string, live: boolean, enabled = true) =>
  useQuery(runQuery<RunSummary>("summary", flow, run, "summary", live, enabled));

/** Why a run (task null) or a task has its status; asked only when shown. */
export function useStatusExplanation(flow: string, run: string, task: { step: string; id: string } | null, enabled: boolean) {
  const path = task ? `${runPath(flow, run)}/steps/${encodeURIComponent(task.step)}/tasks/${encodeURIComponent(task.id)}/status`
    : `${runPath(flow, run)}/status`;
  return useQuery({
    queryKey: ["status-explanation", flow, run, task?.step ?? null, task?.id ?? null],
    enabled,
    staleTime: 5_000,
    queryFn: ({ signal }) => getJson<{ data: StatusExplanation }>(apiUrl(path), signal).then((r) => r.data),
  });
}

export function useLogDiff(a: string | null, b: string | null, stream: string, enabled: boolean) {
  return useQuery({
    queryKey: ["log-diff", a, b, stream],
    enabled: enabled && Boolean(a && b),
    queryFn: ({ signal }) => getJson<{ data: LogDiff }>(apiUrl("/compare/logs", { a, b, stream }), signal).then((r) => r.data),
  });
}
