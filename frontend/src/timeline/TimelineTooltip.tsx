import type { BarRect } from "./timelineLayout";
import { formatCount, formatDuration, formatTime } from "../ui/format";

export function TimelineTooltip({ hit, x, y, now }: { hit: BarRect; x: number; y: number; now: number }) {
  const task = hit.lane.task;
  const left = Math.min(x + 14, window.innerWidth - 370);
  const top = Math.min(y + 14, window.innerHeight - 160);
  return (
    <div className="tooltip" style={{ left, top }} role="tooltip">
      <div className="tt-title">{task && hit.count === 1 ? task.pathspec : `${formatCount(hit.count)} tasks`}</div>
      <table>
        <tbody>
          <tr><td>status</td><td><span className={`badge status-${hit.status}`}><span className="dot" />{hit.status}</span>{hit.retried ? " (retried)" : ""}</td></tr>
          {hit.mix && Object.keys(hit.mix).length > 1 && (
            <tr><td>tasks</td><td className="num">{Object.entries(hit.mix).map(([s, n]) => `${formatCount(n)} ${s}`).join(" · ")}</td></tr>
          )}
          {task && hit.count === 1 && <tr><td>attempt</td><td>{hit.attempt}</td></tr>}
          {task?.foreach_value !== null && task?.foreach_value !== undefined && <tr><td>foreach</td><td className="mono">{task.foreach_value}</td></tr>}
          {task?.iteration !== null && task?.iteration !== undefined && <tr><td>iteration</td><td className="num">{task.iteration + 1} of the loop</td></tr>}
          <tr><td>start</td><td className="num">{formatTime(hit.start)}</td></tr>
          <tr><td>end</td><td className="num">{hit.end ? formatTime(hit.end) : "running"}</td></tr>
          <tr><td>duration</td><td className="num">{formatDuration((hit.end ?? now) - hit.start)}</td></tr>
        </tbody>
      </table>
    </div>
  );
}
