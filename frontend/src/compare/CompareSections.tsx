// The sections of the compare page; each shows both sides and marks added/removed/changed rows.
import { useState } from "react";
import { Link } from "react-router";
import { splitArtifacts } from "../task/artifactOrder";
import type { Run, TaskCounts } from "../api/types";
import { formatPath } from "../nav/viewState";
import { formatBytes, formatDuration } from "../ui/format";
import { countsText } from "../ui/status";
import type { Change, Comparison, Failure, StepSide, Timing } from "./compareApi";
import { formatRatio, formatValue, ratioTone } from "./diff";

export function RatioBadge({ ratio }: { ratio: number | null | undefined }) {
  const tone = ratioTone(ratio);
  if (tone === "none") return null;
  return <span className={`cmp-ratio tone-${tone}`} data-tone={tone} title={`B takes ${ratio?.toFixed(2)}× A`}>{formatRatio(ratio)}</span>;
}

function ChangeMark({ status }: { status: Change }) {
  if (status === "unchanged") return null;
  return <span className={`cmp-mark mark-${status}`}>{status}</span>;
}

function runLink(run: Run, step?: string, task?: string) {
  return formatPath({ flow: run.flow_id, run: run.run_id, step, task });
}

export function ParametersSection({ c }: { c: Comparison }) {
  return (
    <section className="cmp-section" data-testid="compare-parameters">
      <h2>Parameters</h2>
      {c.parameters.length === 0 ? <p className="muted">Neither run has parameters.</p> : (
        <table className="cmp-table">
          <thead><tr><th>name</th><th>A</th><th>B</th><th /></tr></thead>
          <tbody>
            {c.parameters.map((p) => (
              <tr key={p.name} className={`row-${p.status}`} data-name={p.name} data-change={p.status}>
                <td className="mono">{p.name}</td>
                <td className="mono">{p.status === "added" ? "—" : formatValue(p.a)}</td>
                <td className="mono">{p.status === "removed" ? "—" : formatValue(p.b)}</td>
                <td><ChangeMark status={p.status} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function TagsSection({ c }: { c: Comparison }) {
  const { added, removed, unchanged } = c.tags;
  if (!added.length && !removed.length && !unchanged.length) return null;
  return (
    <section className="cmp-section" data-testid="compare-tags">
      <h2>Tags</h2>
      <div className="cmp-tags">
        {removed.map((t) => <span key={`-${t}`} className="tag mark-removed" data-change="removed">− {t}</span>)}
        {added.map((t) => <span key={`+${t}`} className="tag mark-added" data-change="added">+ {t}</span>)}
        {unchanged.map((t) => <span key={t} className="tag">{t}</span>)}
      </div>
    </section>
  );
}

function Counts({ counts }: { counts: TaskCounts }) {
  return <span className={counts.failed ? "cmp-failed" : undefined}>{countsText(counts)}</span>;
}

const TIMINGS: [Timing, string][] = [["wall_ms", "wall"], ["task_total_ms", "task total"], ["p50_ms", "p50"], ["p95_ms", "p95"]];

function Side({ side, run, step }: { side: StepSide | null; run: Run; step: string }) {
  if (!side) return <td className="muted">not in this run</td>;
  return (
    <td>
      <Link to={runLink(run, step)} data-testid="step-link"><Counts counts={side.task_counts} /></Link>
    </td>
  );
}

export function StepsSection({ c }: { c: Comparison }) {
  return (
    <section className="cmp-section" data-testid="compare-steps">
      <h2>Steps</h2>
      <table className="cmp-table">
        <thead>
          <tr><th>step</th><th>A tasks</th><th>B tasks</th>
            {TIMINGS.map(([k, label]) => <th key={k} className="num">{label} A → B</th>)}<th /></tr>
        </thead>
        <tbody>
          {c.steps.map((s) => (
            <tr key={s.step_name} className={`row-${s.status}`} data-step={s.step_name} data-change={s.status}>
              <td className="mono"><strong>{s.step_name}</strong></td>
              <Side side={s.a} run={c.a} step={s.step_name} />
              <Side side={s.b} run={c.b} step={s.step_name} />
              {TIMINGS.map(([k]) => (
                <td key={k} className="num">
                  {formatDuration(s.a?.[k])} → {formatDuration(s.b?.[k])} <RatioBadge ratio={s.ratio?.[k]} />
                </td>
              ))}
              <td><ChangeMark status={s.status} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Preview({ text }: { text: string | null | undefined }) {
  return <pre className="cmp-preview">{text ?? "—"}</pre>;
}

export function ArtifactsSection({ c, chosen, setChosen }: { c: Comparison; chosen: string[]; setChosen: (s: string[]) => void }) {
  const toggle = (step: string) => setChosen(chosen.includes(step) ? chosen.filter((s) => s !== step) : [...chosen, step]);
  const others = c.steps.map((s) => s.step_name).filter((s) => !c.artifact_steps.includes(s) || chosen.includes(s));
  const [showInternal, setShowInternal] = useState(false);
  const { own, internal } = splitArtifacts(c.artifacts);
  const internalChanged = internal.filter((x) => x.status !== "unchanged").length;
  return (
    <section className="cmp-section" data-testid="compare-artifacts">
      <h2>Artifacts <span className="muted">of {c.artifact_steps.join(", ")}</span></h2>
      <div className="cmp-choose">
        <span className="muted">Also compare:</span>
        {others.map((s) => (
          <label key={s}><input type="checkbox" checked={chosen.includes(s)} onChange={() => toggle(s)} /> {s}</label>
        ))}
      </div>
      {c.artifacts.length === 0 ? <p className="muted">No artifacts recorded in these steps.</p> : (
        <table className="cmp-table">
          <thead><tr><th>artifact</th><th>A</th><th>B</th><th /></tr></thead>
          <tbody>
            {[...own, ...(showInternal ? internal : [])].map((x) => (
              <tr key={`${x.step_name}.${x.name}`} className={`row-${x.status}`} data-name={x.name} data-change={x.status}>
                <td className="mono">
                  <span className="muted">{x.step_name}.</span>{x.name}
                  <div className="muted small">{x.a?.type ?? x.b?.type} · {formatBytes(x.a?.size ?? x.b?.size)}
                    {(x.a?.n_tasks ?? 1) > 1 && ` · ${x.a?.n_tasks} tasks`}</div>
                </td>
                <td>{x.a ? <Link to={runLink(c.a, x.step_name, x.a.task_id)}><Preview text={x.a.preview} /></Link> : "—"}</td>
                <td>{x.status === "unchanged" ? <span className="muted">same</span>
                  : x.b ? <Link to={runLink(c.b, x.step_name, x.b.task_id)}><Preview text={x.b.preview} /></Link> : "—"}</td>
                <td><ChangeMark status={x.status} /></td>
              </tr>
            ))}
            {internal.length > 0 && (
              <tr>
                <td colSpan={4}>
                  {/* Metaflow's internal artifacts (_graph_info, _transition, …) after the flow's own, folded. */}
                  <button type="button" className="link-button muted" aria-expanded={showInternal} data-testid="compare-internal-artifacts"
                    onClick={() => setShowInternal((v) => !v)}>
                    {showInternal ? "▾" : "▸"} {internal.length} Metaflow internal artifact{internal.length === 1 ? "" : "s"}
                    {internalChanged ? ` (${internalChanged} changed)` : ""}
                  </button>
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {c.artifacts_truncated && <p className="muted">Only the first artifacts are compared.</p>}
    </section>
  );
}

function FailureBox({ f, run }: { f: Failure | null; run: Run }) {
  if (!f) return <div className="cmp-failure muted">no failed task</div>;
  return (
    <div className="cmp-failure has-failure">
      <Link to={runLink(run, f.step_name, f.task_id)} className="mono">{f.step_name}/{f.task_id}</Link>
      {f.attempt > 0 && <span className="muted"> (attempt {f.attempt})</span>}
      <div><strong>{f.exception_type ?? "failed"}</strong>{f.exception_message ? `: ${f.exception_message}` : ""}</div>
      {!f.exception_type && f.status_reason && <div className="muted">{f.status_reason}</div>}
    </div>
  );
}

export function FailuresSection({ c }: { c: Comparison }) {
  if (!c.failures.a && !c.failures.b) return null;
  return (
    <section className="cmp-section" data-testid="compare-failures">
      <h2>First failure</h2>
      <div className="cmp-two">
        <FailureBox f={c.failures.a} run={c.a} />
        <FailureBox f={c.failures.b} run={c.b} />
      </div>
    </section>
  );
}
