// The run's DAG: SVG boxes coloured by step status, split bodies boxed (foreach double-shaded),
// fan-out counts by status; hovering shows the docstring, clicking filters the timeline to the step.
import { useMemo, useState } from "react";
import { useNavigate } from "react-router";
import type { Run, Step } from "../api/types";
import { useDag } from "../api/runDetail";
import { formatPath } from "../nav/viewState";
import { ErrorBox, Loading } from "../ui/states";
import { formatDuration } from "../ui/format";
import { dagSteps, layoutDag, type NodeBox } from "./dagLayout";

function StepNode({ box, step, onOpen, onHover }: { box: NodeBox; step: Step; onOpen: () => void; onHover: (s: Step | null, b: NodeBox) => void }) {
  const c = step.task_counts;
  const status = step.status ?? (c?.total ? (c.failed ? "failed" : c.running ? "running" : c.pending ? "pending" : "completed") : "pending");
  const fanout = c && c.total > 1;
  return (
    <g className="dag-node" data-step={step.step_name} data-status={status} transform={`translate(${box.x},${box.y})`}
      onClick={onOpen} onMouseEnter={() => onHover(step, box)} onMouseLeave={() => onHover(null, box)}
      role="button" tabIndex={0} onKeyDown={(e) => e.key === "Enter" && onOpen()} aria-label={`step ${step.step_name}, ${status}`}>
      <rect className="box" width={box.w} height={box.h} rx={6} />
      <rect width={4} height={box.h} rx={2} fill={`var(--${status === "completed" ? "ok" : status === "failed" ? "fail" : status === "running" ? "run" : "pend"})`} />
      <text x={14} y={19} fontWeight={600}>{step.step_name}</text>
      <text className="sub" x={14} y={36}>
        {fanout ? (
          <>
            <tspan>{c.total} tasks</tspan>
            {c.completed > 0 && <tspan fill="var(--ok)"> · {c.completed} ✓</tspan>}
            {c.failed > 0 && <tspan fill="var(--fail)"> · {c.failed} ✗</tspan>}
            {c.running > 0 && <tspan fill="var(--run)"> · {c.running} ▶</tspan>}
            {c.pending > 0 && <tspan> · {c.pending} …</tspan>}
          </>
        ) : (
          <tspan>{status}{step.duration_ms ? ` · ${formatDuration(step.duration_ms)}` : ""}</tspan>
        )}
      </text>
      {step.type?.startsWith("split") && (
        <text className="sub" x={box.w - 10} y={19} textAnchor="end">{step.type === "split-foreach" ? "foreach" : step.type === "split-parallel" ? "parallel" : "split"}</text>
      )}
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
  return (
    <div className="dag-wrap" data-testid="dag">
      <div className="dag-legend">
        <span className="muted">{dag.data.doc}{dag.data.file ? <span className="faint"> — {dag.data.file}</span> : null}</span>
        <span className="dag-key">
          {(["completed", "running", "failed", "pending"] as const).map((st) => (
            <span key={st}><i className={`fill-${st}`} />{st}</span>
          ))}
          <span><i className="key-static" />branches</span>
          <span><i className="key-foreach" />foreach</span>
          <span className="faint">click a step for its tasks on the timeline</span>
        </span>
      </div>
      <div style={{ position: "relative", width: layout.width, margin: "0 auto" }}>
        <svg width={layout.width} height={layout.height} role="img" aria-label="Flow DAG">
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0 L10,5 L0,10 z" fill="var(--text-faint)" />
            </marker>
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
          {layout.edges.map((e) => <path key={`${e.from}>${e.to}`} className="dag-edge" d={e.d} markerEnd="url(#arrow)" />)}
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
          </div>
        )}
      </div>
    </div>
  );
}
