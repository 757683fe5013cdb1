import type { Status } from "../api/types";
import type { TimelineParams } from "../nav/viewState";

const STATUSES: Status[] = ["running", "completed", "failed", "pending"];

export function TimelineToolbar({ params, steps, set, onFit, onZoom, following, tasksPerLane }: {
  /** The run's steps; null until known (the URL's step is then shown as chosen, not as missing). */
  params: TimelineParams; steps: string[] | null; set: (p: Partial<TimelineParams>) => void;
  onFit: () => void; onZoom: (factor: number) => void; following: boolean; tasksPerLane: number;
}) {
  const chosen = params.steps.length === 1 ? params.steps[0]! : "";
  // A step in the URL the run does not have (a typo, a step renamed since): chosen and marked
  // missing, as the page says above — never "All steps", which would say the filter is off.
  const missing = chosen && steps !== null && !steps.includes(chosen) ? chosen : null;
  const toggle = (s: Status) =>
    set({ status: params.status.includes(s) ? params.status.filter((x) => x !== s) : [...params.status, s] });
  return (
    <div className="toolbar">
      <label className="field">Sort
        <span className="seg" role="group" aria-label="Sort timeline">
          {(["start", "end", "duration"] as const).map((s) => (
            <button key={s} type="button" aria-pressed={params.sort === s} onClick={() => set({ sort: s })}>{s}</button>
          ))}
        </span>
      </label>
      <label className="field">Rows
        <span className="seg" role="group" aria-label="Group timeline">
          <button type="button" aria-pressed={params.group === "step"} onClick={() => set({ group: "step" })}>by step</button>
          <button type="button" aria-pressed={params.group === "host"} onClick={() => set({ group: "host" })}
            title="Rows grouped by the host each task ran on (Ray nodes, or this machine)">by host</button>
          <button type="button" aria-pressed={params.group === "flat"} onClick={() => set({ group: "flat" })}>flat</button>
          <button type="button" aria-pressed={params.group === "dense"} onClick={() => set({ group: "dense" })}
            title="Every task in the visible lanes: an overview of huge runs">dense</button>
        </span>
      </label>
      <span className="sep" />
      <span className="seg" role="group" aria-label="Filter by status">
        {STATUSES.map((s) => (
          <button key={s} type="button" aria-pressed={params.status.includes(s)} onClick={() => toggle(s)}>{s}</button>
        ))}
      </span>
      <select className={`select${missing ? " select-missing" : ""}`} aria-label="Filter by step" value={chosen}
        aria-invalid={missing ? true : undefined} data-testid="step-filter"
        title={missing ? `This run has no step ${missing}` : undefined}
        onChange={(e) => set({ steps: e.target.value ? [e.target.value] : [] })}>
        <option value="">All steps</option>
        {chosen && (steps === null || missing) && (
          <option value={chosen} data-missing={missing ? "true" : undefined}>
            {missing ? `${chosen} — not in this run` : chosen}
          </option>
        )}
        {(steps ?? []).map((s) => <option key={s} value={s}>{s}</option>)}
      </select>
      <button type="button" className="btn btn-small" aria-pressed={params.criticalPath} data-testid="critical-path-toggle"
        title="Highlight the critical path: the chain of tasks with the largest total running time"
        onClick={() => set({ criticalPath: !params.criticalPath })}>
        Critical path
      </button>
      <span style={{ marginLeft: "auto", display: "flex", gap: 6, alignItems: "center" }}>
        {tasksPerLane > 1 && <span className="muted" title="Level of detail: several tasks share one lane">{tasksPerLane} tasks / lane</span>}
        {following && <span className="badge status-running" title="The window follows the running run until you zoom"><span className="dot" />following</span>}
        <button type="button" className="btn btn-small" onClick={() => onZoom(0.5)} title="Zoom in (wheel)">+</button>
        <button type="button" className="btn btn-small" onClick={() => onZoom(2)} title="Zoom out (wheel)">−</button>
        <button type="button" className="btn btn-small" onClick={onFit} title="Fit the whole run (f)">Fit</button>
      </span>
    </div>
  );
}
