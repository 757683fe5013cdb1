// The run page's Triage tab: why the run has its status, its failures by signature, where the
// time went, and what changed since the last successful run, in one screen.
import { Link } from "react-router";
import { useCriticalPath, useDurations, useFailureDigest, useRunSummary, useStatusExplanation } from "../api/triage";
import type { Run } from "../api/types";
import { compareUrl } from "../compare/diff";
import { formatLocation } from "../nav/viewState";
import { useView } from "../nav/useView";
import { QueryState } from "../ui/states";
import { Explanation } from "./StatusWhy";
import { DigestView } from "./DigestView";
import { CriticalPathList, DurationsTable } from "./TimeView";
import "./triage.css";

export function TriagePanel({ run }: { run: Run }) {
  const [view, setView] = useView();
  const live = run.status === "running";
  const why = useStatusExplanation(run.flow_id, run.run_id, null, true);
  const digest = useFailureDigest(run.flow_id, run.run_id, live);
  const cp = useCriticalPath(run.flow_id, run.run_id, live);
  const durations = useDurations(run.flow_id, run.run_id, live);
  const summary = useRunSummary(run.flow_id, run.run_id, live, run.status === "failed");
  const timelineUrl = formatLocation({ ...view, tab: "timeline", timeline: { ...view.timeline, criticalPath: true } });
  const lastGood = summary.data?.last_good_run;
  return (
    <div className="triage" data-testid="triage">
      <section aria-labelledby="t-why">
        <h2 id="t-why">Why {run.status}</h2>
        <QueryState query={why} label="Explaining the status">{() => <Explanation why={why.data!} />}</QueryState>
      </section>
      <section aria-labelledby="t-failures">
        <h2 id="t-failures">Failures</h2>
        <QueryState query={digest} label="Grouping failures">
          {() => <DigestView run={run} digest={digest.data!} open={view.digestGroup}
            setOpen={(sig) => setView((s) => ({ ...s, digestGroup: sig }), { replace: true })} />}
        </QueryState>
      </section>
      {run.status === "failed" && (
        <section aria-labelledby="t-changed">
          <h2 id="t-changed">What changed</h2>
          {summary.isPending ? <p className="muted">Looking for the last successful run…</p>
            : lastGood ? (
              <p>
                <Link className="btn" data-testid="compare-last-good"
                  to={compareUrl(`${run.flow_id}/${lastGood}`, run.pathspec, [], true)}>
                  Compare with the last successful run ({run.flow_id}/{lastGood}), logs side by side
                </Link>
              </p>
            ) : <p className="muted">No successful run of {run.flow_id} before this one.</p>}
        </section>
      )}
      <section aria-labelledby="t-time">
        <h2 id="t-time">Where the time went</h2>
        <QueryState query={cp} label="Finding the critical path">{() => <CriticalPathList cp={cp.data!} timelineUrl={timelineUrl} />}</QueryState>
        <h3>Step durations</h3>
        <QueryState query={durations} label="Measuring steps">{() => <DurationsTable durations={durations.data!} />}</QueryState>
      </section>
    </div>
  );
}
