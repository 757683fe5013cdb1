import type { Run } from "../api/types";
import { StatusBadge, countsText } from "../ui/status";
import { formatDuration, formatTime } from "../ui/format";
import { runDuration } from "../runs/runDuration";
import { useNow } from "../ui/useNow";
import { PluginSlot } from "../plugins/PluginSlot";
import { CompareActions } from "../compare/CompareActions";
import { StatusWhy } from "../triage/StatusWhy";
import { WatchButton } from "../watch/WatchButton";
import { RunParams } from "./RunParams";

export function RunHeader({ run, onTag }: { run: Run; onTag?: (t: string) => void }) {
  const now = useNow(run.status === "running");
  const started = run.started_at ?? run.created_at;
  return (
    <div className="run-header" data-testid="run-header">
      <div className="run-title">
        <h1><span className="muted">{run.flow_id} /</span> {run.run_id}</h1>
        <StatusBadge status={run.status} reason={run.status_reason} />
        <StatusWhy flow={run.flow_id} run={run.run_id} />
        {run.status_reason && (
          <span className={`run-reason ${run.status === "failed" ? "failed" : ""}`} data-testid="status-reason">{run.status_reason}</span>
        )}
        <span className="muted" data-testid="task-counts" style={{ marginLeft: "auto" }}>{countsText(run.task_counts)}</span>
        <WatchButton run={run} />
        <CompareActions run={run} />
      </div>
      <dl className="kv">
        <div><dt>user</dt><dd>{run.user ?? "—"}</dd></div>
        <div><dt>started</dt><dd className="num">{formatTime(started)}</dd></div>
        <div><dt>finished</dt><dd className="num">{run.finished_at ? formatTime(run.finished_at) : run.status === "running" ? "running…" : "—"}</dd></div>
        <div><dt>duration</dt><dd className="num" data-testid="run-duration">{formatDuration(runDuration(run, now))}</dd></div>
        {run.tags.length > 0 && (
          <div><dt>tags</dt><dd style={{ display: "flex", gap: 4 }}>
            {run.tags.map((t) => <span key={t} className="tag" onClick={() => onTag?.(t)}>{t}</span>)}
          </dd></div>
        )}
        <RunParams run={run} />
      </dl>
      <PluginSlot name="run-header" context={{ run }} />
    </div>
  );
}
