// Run page: header, then Timeline | DAG | Search tabs; the tab and every filter are in the URL.
import { useEffect, useMemo, useRef } from "react";
import { Link, useNavigate } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { apiUrl } from "../api/client";
import { patchRun, useRun } from "../api/runs";
import { patchTask, runPath, useDag } from "../api/runDetail";
import type { Run } from "../api/types";
import { useLiveResource } from "../live/useLive";
import { useHeartbeatRecheck } from "../live/heartbeatRecheck";
import { formatLocation, formatPath, type RunTab } from "../nav/viewState";
import { useView } from "../nav/useView";
import { ErrorBox, Loading } from "../ui/states";
import { RunHeader } from "./RunHeader";
import { TimelineView } from "../timeline/TimelineView";
import { DagView } from "../dag/DagView";
import { RunSearch } from "../search/RunSearch";
import { TriagePanel } from "../triage/TriagePanel";
import { PluginSlot } from "../plugins/PluginSlot";
import { PluginTabs, activePluginTab, usePluginTab } from "../plugins/PluginTabs";

const TABS: [RunTab, string][] = [["timeline", "Timeline"], ["dag", "DAG"], ["search", "Log search"], ["triage", "Triage"]];

export function RunPage() {
  const [view] = useView();
  const navigate = useNavigate();
  const client = useQueryClient();
  const flow = view.path.flow!;
  const runId = view.path.run!;
  // The run and its DAG in one request (the DAG's first answer seeds useDag's query).
  const run = useRun(flow, runId, true);
  const pluginTab = activePluginTab(usePluginTab());

  useLiveResource("run", run.isSuccess ? apiUrl(runPath(flow, runId)) : null, run.data?.seq ?? null, (e) => {
    const before = client.getQueryData<Run>(["run", flow, runId])?.status;
    patchRun(client, e.data);
    // The DAG's step statuses depend on the run's end (a switch case never taken reads "skipped"
    // only once the run has completed), which no task event announces.
    if (before === "running" && e.data.status !== "running") {
      void client.invalidateQueries({ queryKey: ["dag", flow, runId] });
    }
  });
  // Task changes patch cached task lists and re-ask the derived views (timeline, DAG counts), at
  // most once a second: a busy 100,000-task run must not turn its events into a request storm.
  const refresh = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => { if (refresh.current) clearTimeout(refresh.current); }, []);
  // Resumes from the run's seq, not from "now": a task change committed between the run's fetch
  // and this subscription is replayed (the replay is the run's tasks changed since its last change:
  // at most one heartbeat round of its running tasks; none for a finished run).
  useLiveResource("tasks", run.isSuccess ? apiUrl(`${runPath(flow, runId)}/tasks`) : null, run.data?.seq ?? null, (e) => {
    patchTask(client, e.data);
    refresh.current ??= setTimeout(() => {
      refresh.current = null;
      void client.invalidateQueries({ queryKey: ["timeline", flow, runId] });
      void client.invalidateQueries({ queryKey: ["dag", flow, runId] });
    }, 1000);
  });

  // A run whose writer dies turns "heartbeat lost" with no event: re-ask it once it falls silent.
  const shown = useMemo(() => (run.data ? [run.data] : undefined), [run.data]);
  useHeartbeatRecheck(shown, run.dataUpdatedAt, run.refetch);

  // A step in the URL that the run does not have (a typo): say so, not just "No tasks match".
  const dag = useDag(flow, runId, run.isSuccess && Boolean(view.path.step));
  const stepNames = dag.data?.steps.map((s) => s.step_name) ?? null;
  const unknownStep = view.path.step && stepNames && !stepNames.includes(view.path.step) ? view.path.step : null;

  if (run.isPending) return <Loading label="Loading run" />;
  if (run.isError) return <ErrorBox error={run.error} retry={() => void run.refetch()} back={{ to: formatPath({ flow }), label: `Back to ${flow}'s runs` }} />;

  const tabUrl = (tab: RunTab) => formatLocation({ ...view, tab });
  return (
    <div className="run-body">
      <RunHeader run={run.data} onTag={(t) => navigate(`/?tag=${encodeURIComponent(t)}`)} />
      <div className="tabs" role="tablist">
        {TABS.map(([tab, label]) => (
          <Link key={tab} to={tabUrl(tab)} role="tab" aria-selected={view.tab === tab && !pluginTab} data-tab={tab}>{label}</Link>
        ))}
        <PluginTabs />
        {view.path.step && (
          <span className="muted" style={{ alignSelf: "center", marginLeft: 12 }}>
            {unknownStep ? (
              <span className="run-reason failed" role="alert" data-testid="unknown-step">
                no step {unknownStep} in this run (its steps: {stepNames!.join(", ")})
              </span>
            ) : <>step <strong>{view.path.step}</strong></>} · <Link to={formatPath({ flow, run: runId })}>all steps</Link>
          </span>
        )}
      </div>
      {view.tab === "timeline" && !pluginTab && <TimelineView run={run.data} />}
      <PluginSlot name="run-tab" context={{ run: run.data }} />
      {view.tab === "dag" && <DagView run={run.data} />}
      {view.tab === "search" && <RunSearch run={run.data} />}
      {view.tab === "triage" && !pluginTab && <TriagePanel run={run.data} />}
    </div>
  );
}
