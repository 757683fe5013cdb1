import { memo } from "react";
import { Link } from "react-router";
import { formatPath } from "../nav/viewState";
import type { Run } from "../api/types";
import type { RunSortKey } from "../nav/viewState";
import { StatusBadge, TaskCountsBar } from "../ui/status";
import { StatusWhy } from "../triage/StatusWhy";
import { formatAgo, formatDuration, formatTime } from "../ui/format";
import { runDuration } from "./runDuration";
import { useNow } from "../ui/useNow";
import { serverNow } from "../live/serverClock";
import { PickBox } from "../compare/CompareBar";

export const RUN_GRID = "26px 132px minmax(120px,1.3fr) 70px minmax(70px,0.7fr) 150px 88px 84px minmax(150px,1.2fr) minmax(100px,1fr)";

export const RUN_COLUMNS: { key: RunSortKey | null; label: string }[] = [
  // The server orders runs by created, finished or duration (each index-backed); the other
  // columns are not sortable because sorting only the loaded rows would mislead.
  { key: null, label: "" }, // compare checkbox
  { key: null, label: "Status" },
  { key: null, label: "Flow" },
  { key: null, label: "Run" },
  { key: null, label: "User" },
  { key: "started", label: "Started" },
  { key: "finished", label: "Finished" },
  { key: "duration", label: "Duration" },
  { key: null, label: "Tasks" },
  { key: null, label: "Tags" },
];

/** One run. Running runs re-render each second (shared clock) so their duration ticks. */
export const RunRow = memo(function RunRow({ run, selected, onOpen, onTag, style, picked = false, onPick }: {
  run: Run; selected: boolean; onOpen: (r: Run) => void; onTag: (t: string) => void; style?: React.CSSProperties;
  picked?: boolean; onPick?: (r: Run) => void;
}) {
  const now = useNow(run.status === "running");
  const started = run.started_at ?? run.created_at;
  return (
    <div
      className={`vrow${selected ? " selected" : ""}`}
      style={{ gridTemplateColumns: RUN_GRID, ...style }}
      role="row"
      data-pathspec={run.pathspec}
      data-status={run.status}
      onClick={() => onOpen(run)}
    >
      {onPick ? <PickBox run={run} checked={picked} onPick={onPick} /> : <div className="cell" />}
      <div className="cell" style={{ display: "flex", gap: 4, alignItems: "center" }}>
        <StatusBadge status={run.status} reason={run.status_reason} />
        <StatusWhy flow={run.flow_id} run={run.run_id} compact />
      </div>
      <div className="cell" title={run.flow_id}><strong>{run.flow_id}</strong></div>
      <div className="cell mono"><Link to={formatPath({ flow: run.flow_id, run: run.run_id })} onClick={(e) => e.stopPropagation()}>{run.run_id}</Link></div>
      <div className="cell muted">{run.user ?? "—"}</div>
      <div className="cell num" title={formatTime(started)}>{formatTime(started)}</div>
      <div className="cell muted num" title={formatTime(run.finished_at)}>{run.finished_at ? formatAgo(run.finished_at, serverNow()) : "—"}</div>
      <div className="cell num" data-testid="run-duration">
        {formatDuration(runDuration(run, now))}
      </div>
      <div className="cell" title={run.status_reason ?? undefined}>
        {run.status === "failed" && run.status_reason
          ? <span className="run-reason failed">{run.status_reason}</span>
          : <TaskCountsBar counts={run.task_counts} />}
      </div>
      <div className="cell" style={{ display: "flex", gap: 4 }}>
        {run.tags.map((t) => (
          <span key={t} className="tag" role="button" tabIndex={-1} title={`Filter by tag ${t}`}
            onClick={(e) => { e.stopPropagation(); onTag(t); }}>{t}</span>
        ))}
      </div>
    </div>
  );
});
