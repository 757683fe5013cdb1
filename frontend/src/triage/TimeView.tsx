// Where the time went: the critical path (listed, and a link that highlights it on the timeline),
// idle gaps, and each step's duration distribution with its outliers one click from the task.
import { Link } from "react-router";
import type { CriticalPath, RunDurations, StepDurations } from "../api/types";
import { formatDuration, formatTime } from "../ui/format";

function Histogram({ s }: { s: StepDurations }) {
  const counts = s.histogram.counts;
  const max = Math.max(1, ...counts);
  const w = 160;
  const h = 36;
  const bw = counts.length ? w / counts.length : w;
  const edges = s.histogram.edges;
  return (
    <svg className="hist" width={w} height={h} role="img"
      aria-label={`${s.step_name}: ${s.timed} durations from ${formatDuration(s.min_ms)} to ${formatDuration(s.max_ms)} (${s.histogram.scale} scale)`}>
      {counts.map((c, i) => (
        <rect key={i} x={i * bw + 0.5} width={Math.max(1, bw - 1)} y={h - (c / max) * h} height={(c / max) * h}>
          <title>{`${formatDuration(edges[i])}–${formatDuration(edges[i + 1])}: ${c} task${c === 1 ? "" : "s"}`}</title>
        </rect>
      ))}
    </svg>
  );
}

export function CriticalPathList({ cp, timelineUrl }: { cp: CriticalPath; timelineUrl: string }) {
  return (
    <div data-testid="critical-path">
      <p>
        <strong>{formatDuration(cp.path_ms)}</strong> of running time on the critical path
        {cp.queued_ms > 0 && <>, {formatDuration(cp.queued_ms)} queued along it</>}; the run took
        {" "}<strong>{formatDuration(cp.wall_ms)}</strong>{cp.idle_ms > 0 && <>, {formatDuration(cp.idle_ms)} of it with no task running</>}.
        {" "}<Link to={timelineUrl} className="btn btn-small" data-testid="show-critical-path">Show on the timeline</Link>
      </p>
      <table className="table cp-table">
        <thead><tr><th>step</th><th>task</th><th>input</th><th className="num">running</th><th className="num">queued</th><th>started</th></tr></thead>
        <tbody>
          {cp.tasks.map((t) => (
            <tr key={t.pathspec}>
              <td>{t.step_name}</td>
              <td className="mono"><Link to={`/${t.pathspec}`}>{t.task_id}</Link></td>
              <td className="mono">{t.foreach_value ?? ""}</td>
              <td className="num">{formatDuration(t.duration_ms)}</td>
              <td className="num">{t.queued_ms === null ? "–" : formatDuration(t.queued_ms)}</td>
              <td className="muted num">{formatTime(t.started_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {cp.idle_gaps.length > 0 && (
        <p className="muted">Idle gaps: {cp.idle_gaps.map((g) => `${formatDuration(g.duration_ms)} at ${formatTime(g.start)}`).join(" · ")}</p>
      )}
    </div>
  );
}

export function DurationsTable({ durations }: { durations: RunDurations }) {
  return (
    <table className="table dur-table" data-testid="durations">
      <thead><tr><th>step</th><th className="num">tasks</th><th className="num">wall</th><th className="num">p50</th>
        <th className="num">p95</th><th className="num">max</th><th className="num">queued p50 / p95</th><th>distribution</th><th>outliers</th></tr></thead>
      <tbody>
        {durations.steps.map((s) => (
          <tr key={s.step_name} data-step={s.step_name}>
            <td>{s.step_name}</td>
            <td className="num">{s.tasks}</td>
            <td className="num">{formatDuration(s.wall_ms)}</td>
            <td className="num">{formatDuration(s.p50_ms)}</td>
            <td className="num">{formatDuration(s.p95_ms)}</td>
            <td className="num">{formatDuration(s.max_ms)}</td>
            <td className="num">{s.queued_p50_ms === null ? "–" : `${formatDuration(s.queued_p50_ms)} / ${formatDuration(s.queued_p95_ms)}`}</td>
            <td>{s.timed > 1 ? <Histogram s={s} /> : <span className="muted">–</span>}</td>
            <td className="dur-outliers">
              {s.outliers.length === 0 ? <span className="muted">none</span> : s.outliers.map((o) => (
                <Link key={o.pathspec} to={`/${o.pathspec}`} className="tag" data-testid="duration-outlier">
                  {o.foreach_value ?? o.task_id} · {formatDuration(o.duration_ms)}
                </Link>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
