// The run's DAG: SVG boxes coloured by step status, split bodies boxed (foreach double-shaded),
// fan-out counts by status; hovering shows the docstring, clicking filters the timeline to the step.
// A switch is a hexagon (as in Metaflow's own graph output) whose edges are labelled with their
// cases: the cases the run took are drawn strong, the others dashed, and a step no case led to is
// greyed as "skipped". A recursive step has a loop arc with the number of iterations it ran.
import { useMemo, useState } from "react";
import { useNavigate } from "react-router";
import type { Run, Step } from "../api/types";
import { useDag } from "../api/runDetail";
import { formatPath } from "../nav/viewState";
import { ErrorBox, Loading } from "../ui/states";
import { formatDuration } from "../ui/format";
import { dagSteps, edgeState, layoutDag, loopCaseText, ran, type EdgePath, type LoopPath, type NodeBox } from "./dagLayout";

const STATUS_COLOUR: Record<string, string> = { completed: "ok", failed: "fail", running: "run", skipped: "text-faint", not_run: "text-faint" };

/** A hexagon the size of a node box (Metaflow draws switches as hexagons). */
function hexagon(w: number, h: number): string {
  const d = 12;
  return `${d},0 ${w - d},0 ${w},${h / 2} ${w - d},${h} ${d},${h} 0,${h / 2}`;
}

function StepNode({ box, step, onOpen, onHover }: { box: NodeBox; step: Step; onOpen: () => void; onHover: (s: Step | null, b: NodeBox) => void }) {
  const c = step.task_counts;
  const status = step.status ?? (c?.total ? (c.failed ? "failed" : c.running ? "running" : c.pending ? "pending" : "completed") : "pending");
  const fanout = c && c.total > 1;
  const isSwitch = step.type === "split-switch";
  return (
    <g className={`dag-node${isSwitch ? " dag-switch" : ""}`} data-step={step.step_name} data-status={status}
      data-type={step.type ?? ""} transform={`translate(${box.x},${box.y})`}
      onClick={onOpen} onMouseEnter={() => onHover(step, box)} onMouseLeave={() => onHover(null, box)}
      role="button" tabIndex={0} onKeyDown={(e) => e.key === "Enter" && onOpen()} aria-label={`step ${step.step_name}, ${status}`}>
      {isSwitch ? <polygon className="box" points={hexagon(box.w, box.h)} /> : <rect className="box" width={box.w} height={box.h} rx={6} />}
      <rect x={isSwitch ? 9 : 0} y={isSwitch ? 8 : 0} width={4} height={isSwitch ? box.h - 16 : box.h} rx={2}
        fill={`var(--${STATUS_COLOUR[status] ?? "pend"})`} />
      <text x={isSwitch ? 20 : 14} y={19} fontWeight={600}>{step.step_name}</text>
      <text className="sub" x={isSwitch ? 20 : 14} y={36}>
        {status === "skipped" ? (
          <tspan>skipped · no case led here</tspan>
        ) : fanout ? (
          <>
            <tspan>{c.total} tasks</tspan>
            {c.completed > 0 && <tspan fill="var(--ok)"> · {c.completed} ✓</tspan>}
            {c.failed > 0 && <tspan fill="var(--fail)"> · {c.failed} ✗</tspan>}
            {c.running > 0 && <tspan fill="var(--run)"> · {c.running} ▶</tspan>}
            {c.pending > 0 && <tspan> · {c.pending} …</tspan>}
          </>
        ) : (
          <tspan>{status === "not_run" ? "not run" : status}{step.duration_ms ? ` · ${formatDuration(step.duration_ms)}` : ""}</tspan>
        )}
      </text>
      {step.type?.startsWith("split") && (
        <text className="sub" x={box.w - (isSwitch ? 16 : 10)} y={19} textAnchor="end">
          {step.type === "split-foreach" ? "foreach" : step.type === "split-parallel" ? "parallel"
            : isSwitch ? `switch ${step.condition ?? ""}` : "split"}
        </text>
      )}
    </g>
  );
}

function Edge({ e, state }: { e: EdgePath; state: "taken" | "untaken" | "plain" }) {
  const label = e.cases.join(" | ");
  return (
    <g className={`dag-edge-${state}`} data-edge={`${e.from}>${e.to}`} data-state={state}>
      <path className="dag-edge" d={e.d} markerEnd={`url(#arrow-${state})`} />
      {label && (
        <g className="dag-case" transform={`translate(${e.lx},${e.ly})`}>
          <rect x={-(label.length * 3.4 + 7)} y={-9} width={label.length * 6.8 + 14} height={18} rx={9} />
          <text textAnchor="middle" y={0.5}>{label}</text>
        </g>
      )}
    </g>
  );
}

function Loop({ l, step }: { l: LoopPath; step: Step }) {
  const n = step.iterations ?? step.task_counts?.total ?? 0;
  // Inside a foreach each split loops its own number of times: show the most any split ran.
  const upTo = (step.task_counts?.total ?? 0) > n ? "up to " : "";
  const label = n ? `${upTo}${n} iteration${n === 1 ? "" : "s"}` : "loop";
  const looped = n > 1;
  return (
    <g className={`dag-loop dag-edge-${looped ? "taken" : "plain"}`} data-loop={l.step}>
      <path className="dag-edge" d={l.d} markerEnd={`url(#arrow-${looped ? "taken" : "plain"})`} />
      <text className="dag-loop-label" x={l.lx} y={l.ly - 5}>↻ {label}</text>
      {l.cases.length > 0 && <text className="dag-loop-case" x={l.lx} y={l.ly + 9}>{loopCaseText(step)}</text>}
    </g>
  );
}

export function DagView({ run }: { run: Run }) {
  const dag = useDag(run.flow_id, run.run_id);
  const navigate = useNavigate();
  const [hover, setHover] = useState<{ step: Step; box: NodeBox } | null>(null);
  const layout = useMemo(() => (dag.data ? layoutDag(dagSteps(dag.data.steps), dag.data.start_step) : null), [dag.data]);
  if (dag.isPending) return <Loading label="Loading DAG" />;
  if (dag.isError) return <ErrorBox error={dag.error} retry={() => void dag.refetch()} />;
  if (!layout) return null;
  const steps = new Map(dag.data.steps.map((s) => [s.step_name, s]));
  const hasSwitch = dag.data.steps.some((s) => s.type === "split-switch");
  const hasNotRun = dag.data.steps.some((s) => s.status === "not_run");
  return (
    <div className="dag-wrap" data-testid="dag">
      <div className="dag-legend">
        <span className="muted">{dag.data.doc}{dag.data.file ? <span className="faint"> — {dag.data.file}</span> : null}</span>
        <span className="dag-key">
          {(["completed", "running", "failed", "pending"] as const).map((st) => (
            <span key={st}><i className={`fill-${st}`} />{st}</span>
          ))}
          {hasSwitch && <span><i className="key-skipped" />skipped</span>}
          {hasNotRun && <span><i className="key-skipped" />not run (the run ended first)</span>}
          <span><i className="key-static" />branches</span>
          <span><i className="key-foreach" />foreach</span>
          {hasSwitch && <span><i className="key-switch" />switch (case taken / not taken)</span>}
          <span className="faint">click a step for its tasks on the timeline</span>
        </span>
      </div>
      <div style={{ position: "relative", width: layout.width, margin: "0 auto" }}>
        <svg width={layout.width} height={layout.height} role="img" aria-label="Flow DAG">
          <defs>
            {(["plain", "taken", "untaken"] as const).map((st) => (
              <marker key={st} id={`arrow-${st}`} className={`dag-arrow-${st}`} viewBox="0 0 10 10" refX="9" refY="5"
                markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse">
                <path d="M0,0 L10,5 L0,10 z" />
              </marker>
            ))}
          </defs>
          {layout.groups.map((g) => (
            <g key={g.split} data-group={g.kind}>
              <rect className={g.kind === "foreach" ? "dag-group-foreach" : "dag-group-static"} x={g.x} y={g.y} width={g.w} height={g.h} rx={10} />
              {g.kind === "foreach" && <rect className="dag-group-foreach-inner" x={g.x + 5} y={g.y + 5} width={g.w - 10} height={g.h - 10} rx={7} />}
              <text className="dag-group-label" x={g.x + 10} y={g.y + 15}>
                {g.kind === "foreach" ? `foreach ${steps.get(g.split)?.foreach_artifact ?? ""}` : "branches"}
              </text>
            </g>
          ))}
          {layout.edges.map((e) => (
            <Edge key={`${e.from}>${e.to}`} e={e} state={edgeState(steps.get(e.from), steps.get(e.to), run.status, steps)} />
          ))}
          {layout.loops.map((l) => { const st = steps.get(l.step); return st ? <Loop key={l.step} l={l} step={st} /> : null; })}
          {layout.nodes.map((n) => {
            const step = steps.get(n.name);
            return step ? (
              <StepNode key={n.name} box={n} step={step}
                onOpen={() => navigate(formatPath({ flow: run.flow_id, run: run.run_id, step: n.name }))}
                onHover={(s, b) => setHover(s ? { step: s, box: b } : null)} />
            ) : null;
          })}
        </svg>
        {hover && (
          <div className="tooltip" style={{ position: "absolute", left: hover.box.x + hover.box.w + 8, top: hover.box.y }}>
            <div className="tt-title">{hover.step.step_name}</div>
            <div>{hover.step.doc || <span className="faint">no docstring</span>}</div>
            <div className="faint" style={{ marginTop: 4 }}>
              {hover.step.type ?? "not in the flow's graph"}{hover.step.line ? ` · line ${hover.step.line}` : ""}
              {hover.step.decorators.length ? ` · @${hover.step.decorators.map((d) => d.name).join(" @")}` : ""}
            </div>
            {hover.step.switch_cases && (
              <table className="tt-cases">
                <tbody>
                  <tr><td colSpan={2} className="faint">switch on self.{hover.step.condition}</td></tr>
                  {Object.entries(hover.step.switch_cases).map(([c, target]) => (
                    <tr key={c} className={ran(steps.get(target)) ? "taken" : ""}>
                      <td className="mono">{c}</td><td>→ {target === hover.step.step_name ? `${target} (again)` : target}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {hover.step.status === "skipped" && <div className="faint">No case of a switch led here in this run.</div>}
            {hover.step.status === "not_run" && <div className="faint">The run ended before it reached this step.</div>}
          </div>
        )}
      </div>
    </div>
  );
}
