// /-/compare?a=Flow/12&b=Flow/15: two runs side by side, only what changed highlighted.
import { useCallback, useEffect, useRef } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { apiUrl } from "../api/client";
import { runPath } from "../api/paths";
import { useCatchUpOnReconnect, useLiveResource } from "../live/useLive";
import { useHeartbeatRecheck } from "../live/heartbeatRecheck";
import { serverNow } from "../live/serverClock";
import { formatPath } from "../nav/viewState";
import { formatDuration, formatTime } from "../ui/format";
import { Empty, ErrorBox, Loading } from "../ui/states";
import { StatusBadge } from "../ui/status";
import { StatusWhy } from "../triage/StatusWhy";
import type { Run } from "../api/types";
import { runDuration } from "../runs/runDuration";
import { useComparison, type Comparison } from "./compareApi";
import { compareUrl, parseSteps, summarize, totalChanges } from "./diff";
import { LogDiffSection } from "./LogDiffSection";
import { ArtifactsSection, FailuresSection, ParametersSection, RatioBadge, StepsSection, TagsSection } from "./CompareSections";
import "./compare.css";

function RunCard({ run, side }: { run: Run; side: "a" | "b" }) {
  return (
    <div className="cmp-run" data-testid={`compare-run-${side}`}>
      <span className="cmp-side">{side === "a" ? "A · baseline" : "B"}</span>
      <Link to={formatPath({ flow: run.flow_id, run: run.run_id })} className="mono"><strong>{run.pathspec}</strong></Link>
      <span className="cmp-status">
        <StatusBadge status={run.status} reason={run.status_reason} />
        <StatusWhy flow={run.flow_id} run={run.run_id} compact />
      </span>
      <span className="muted num">{formatTime(run.started_at ?? run.created_at)}</span>
      {/* the run page's duration: to now while running, to the last heartbeat once that was lost */}
      <span className="num" data-testid={`compare-duration-${side}`}>{formatDuration(runDuration(run, serverNow()))}</span>
    </div>
  );
}

/** `/api/flows/F/runs/R` of a pathspec `F/R` (the run feed the run list and run page follow). */
function runResource(pathspec: string | null): string | null {
  const [flow, run, ...rest] = (pathspec ?? "").split("/");
  return flow && run && rest.length === 0 ? apiUrl(runPath(flow, run)) : null;
}

/** Live, as the run list and the run page are: each run's feed patches its card at once; a run
 * that settles (finishes, fails) re-asks the comparison, whose steps, artifacts and failures
 * changed with it; a running run that falls silent is re-asked (heartbeatRecheck.ts) so a run
 * whose heartbeat was lost turns failed; a reconnect re-asks what was missed. */
function useLiveComparison(query: ReturnType<typeof useComparison>, key: readonly unknown[]): void {
  const client = useQueryClient();
  const c = query.data;
  const refresh = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => { if (refresh.current) clearTimeout(refresh.current); }, []);
  const onEvent = (side: "a" | "b") => (e: { data: Comparison["a"] }) => {
    const before = client.getQueryData<Comparison>(key)?.[side];
    if (!before || before.pathspec !== e.data.pathspec) return;
    client.setQueryData<Comparison>(key, (old) => (old ? { ...old, [side]: { ...old[side], ...e.data } } : old));
    if (before.status === e.data.status) return;
    refresh.current ??= setTimeout(() => {
      refresh.current = null;
      void client.invalidateQueries({ queryKey: key });
      void client.invalidateQueries({ queryKey: ["log-diff"] });
    }, 500);
  };
  const ready = query.isSuccess;
  useLiveResource("run", ready ? runResource(c?.a.pathspec ?? null) : null, c?.a.seq ?? null, onEvent("a"));
  useLiveResource("run", ready ? runResource(c?.b.pathspec ?? null) : null, c?.b.seq ?? null, onEvent("b"));
  useHeartbeatRecheck(c ? [c.a, c.b] : undefined, query.dataUpdatedAt, query.refetch);
  const { refetch } = query;
  useCatchUpOnReconnect(useCallback(() => void refetch(), [refetch]));
}

export function ComparePage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const a = params.get("a");
  const b = params.get("b");
  const steps = parseSteps(params.get("steps"));
  const query = useComparison(a, b, steps);
  useLiveComparison(query, ["compare", a, b, steps]);

  if (!a || !b) {
    return (
      <div className="cmp-page">
        <Empty>
          Pick two runs to compare: tick two runs in the <Link to="/">run list</Link> and press “Compare”, or use
          “Compare with…” on a run page.
        </Empty>
      </div>
    );
  }
  if (query.isPending) return <Loading label={`Comparing ${a} with ${b}`} />;
  if (query.isError) return <div className="cmp-page"><ErrorBox error={query.error} retry={() => void query.refetch()} /></div>;

  const c = query.data;
  const summary = summarize(c);
  const total = totalChanges(summary);
  const setSteps = (next: string[]) => void navigate(compareUrl(a, b, next), { replace: true });
  return (
    <div className="cmp-page" data-testid="compare-page">
      <div className="cmp-head">
        <RunCard run={c.a} side="a" />
        <div className="cmp-vs">
          <span>vs</span>
          <RatioBadge ratio={c.a.duration_ms && c.b.duration_ms ? c.b.duration_ms / c.a.duration_ms : null} />
          <button type="button" className="btn btn-small" title="Swap A and B" onClick={() => void navigate(compareUrl(b, a, steps))}>⇄ swap</button>
        </div>
        <RunCard run={c.b} side="b" />
      </div>
      {c.note && <div className="cmp-note" role="note">{c.note}</div>}
      <p className="cmp-summary" data-testid="compare-summary">
        {total === 0
          ? "No differences in parameters, tags, steps, artifacts or failures."
          : [
              summary.parameters && `${summary.parameters} parameter${summary.parameters > 1 ? "s" : ""}`,
              summary.tags && `${summary.tags} tag${summary.tags > 1 ? "s" : ""}`,
              summary.steps && `${summary.steps} step${summary.steps > 1 ? "s" : ""} added/removed`,
              summary.artifacts && `${summary.artifacts} artifact${summary.artifacts > 1 ? "s" : ""}`,
              summary.failures && "failure",
            ].filter(Boolean).join(" · ") + " changed"}
      </p>
      <FailuresSection c={c} />
      {(params.get("logs") === "1" || c.b.status === "failed") && <LogDiffSection a={a} b={b} />}
      <ParametersSection c={c} />
      <TagsSection c={c} />
      <StepsSection c={c} />
      <ArtifactsSection c={c} chosen={steps} setChosen={setSteps} />
    </div>
  );
}
