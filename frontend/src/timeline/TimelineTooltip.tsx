import { useEffect, useState } from "react";
import type { BarRect } from "./timelineLayout";
import { useStatusExplanation } from "../api/triage";
import { formatCount, formatDuration, formatTime } from "../ui/format";
import { timingText } from "../triage/timing";

/** How long the pointer rests on one task's bar before its status explanation is asked for: sweeping
 * across a 100,000-row timeline asks nothing, resting on a bar asks once (then it is cached). */
export const WHY_HOVER_MS = 300;

export function TimelineTooltip({ hit, x, y, now, flow, run }: {
  hit: BarRect; x: number; y: number; now: number; flow: string; run: string;
}) {
  const task = hit.lane.task;
  const single = task && hit.count === 1 ? task : null;
  const key = single?.pathspec ?? null;
  const [rested, setRested] = useState<string | null>(null);
  useEffect(() => {
    if (key === null) return;
    const t = setTimeout(() => setRested(key), WHY_HOVER_MS);
    return () => clearTimeout(t);
  }, [key]);
  const why = useStatusExplanation(flow, run, single ? { step: single.step_name, id: single.task_id } : null,
    single !== null && rested === key);
  const left = Math.min(x + 14, window.innerWidth - 370);
  const top = Math.min(y + 14, window.innerHeight - 200);
  return (
    <div className="tooltip" style={{ left, top }} role="tooltip">
      <div className="tt-title">{single ? single.pathspec : `${formatCount(hit.count)} tasks`}</div>
      <table>
        <tbody>
          <tr><td>status</td><td><span className={`badge status-${hit.status}`}><span className="dot" />{hit.status}</span>{hit.retried ? " (retried)" : ""}</td></tr>
          {single && (
            <tr><td>why</td><td><div className="tt-why" data-testid="tooltip-why" data-rule={why.data?.rule}>
              {why.data ? why.data.summary : why.isError ? "could not ask why" : "…"}
            </div></td></tr>
          )}
          {single && why.data?.timing && (
            <tr><td>task</td><td className="num" data-testid="tooltip-timing">{timingText(why.data.timing, now)}</td></tr>
          )}
          {hit.mix && Object.keys(hit.mix).length > 1 && (
            <tr><td>tasks</td><td className="num">{Object.entries(hit.mix).map(([s, n]) => `${formatCount(n)} ${s}`).join(" · ")}</td></tr>
          )}
          {single && <tr><td>attempt</td><td>{hit.attempt}</td></tr>}
          {task?.foreach_value !== null && task?.foreach_value !== undefined && <tr><td>foreach</td><td className="mono">{task.foreach_value}</td></tr>}
          {task?.iteration !== null && task?.iteration !== undefined && <tr><td>iteration</td><td className="num">{task.iteration + 1} of the loop</td></tr>}
          <tr><td>start</td><td className="num">{formatTime(hit.start)}</td></tr>
          <tr><td>end</td><td className="num">{hit.end ? formatTime(hit.end) : "running"}</td></tr>
          <tr><td>duration</td><td className="num">{formatDuration((hit.end ?? now) - hit.start)}</td></tr>
        </tbody>
      </table>
      {single && <div className="tt-hint">Click: the task, with its evidence (why?) beside its status</div>}
    </div>
  );
}
