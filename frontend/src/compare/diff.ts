// Pure helpers of the compare view: URLs, ordering a picked pair, ratios and their colours.
import { includedFile, includedFileText } from "../run/includedFile";
import type { Change, Comparison } from "./compareApi";

/** `/-/compare?a=Flow/12&b=Flow/15[&steps=x,y]`: the pair is the URL. */
export function compareUrl(a: string, b: string, steps: readonly string[] = [], logs = false): string {
  const q = new URLSearchParams({ a, b });
  if (steps.length) q.set("steps", steps.join(","));
  if (logs) q.set("logs", "1");
  return `/-/compare?${q.toString()}`;
}

/** The older run is the baseline (a), so "changed" reads as what happened since. */
export function orderPair<T extends { created_at: number; pathspec: string }>(runs: readonly T[]): [T, T] | null {
  if (runs.length !== 2) return null;
  const [x, y] = runs as [T, T];
  return x.created_at < y.created_at || (x.created_at === y.created_at && x.pathspec <= y.pathspec) ? [x, y] : [y, x];
}

export type RatioTone = "slower" | "faster" | "same" | "none";

// A step taking a quarter longer is worth a glance; 20 % faster is the symmetric speed-up (1/1.25).
export const SLOWER = 1.25;
export const FASTER = 0.8;

export function ratioTone(ratio: number | null | undefined): RatioTone {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "none";
  if (ratio >= SLOWER) return "slower";
  if (ratio <= FASTER) return "faster";
  return "same";
}

/** "×2.0 slower"-style text kept short: "+50%", "−20%", "±0%", or "×12" for big jumps. */
export function formatRatio(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "—";
  if (ratio >= 10) return `×${Math.round(ratio)}`;
  const pct = Math.round((ratio - 1) * 100);
  if (pct === 0) return "±0%";
  return pct > 0 ? `+${pct}%` : `−${-pct}%`;
}

export function formatValue(v: unknown): string {
  if (v === undefined) return "—";
  const file = includedFile(v);
  if (file) return includedFileText(file);
  return typeof v === "string" ? v : JSON.stringify(v);
}

export interface ChangeSummary { parameters: number; tags: number; steps: number; artifacts: number; failures: number }

/** How many things differ per section (the page's headline and the "nothing changed" state). */
export function summarize(c: Comparison): ChangeSummary {
  const changed = (xs: readonly { status: Change }[]) => xs.filter((x) => x.status !== "unchanged").length;
  const failA = c.failures.a ? `${c.failures.a.step_name}:${c.failures.a.exception_type ?? ""}` : null;
  const failB = c.failures.b ? `${c.failures.b.step_name}:${c.failures.b.exception_type ?? ""}` : null;
  return {
    parameters: changed(c.parameters),
    tags: c.tags.added.length + c.tags.removed.length,
    steps: changed(c.steps),
    artifacts: changed(c.artifacts),
    failures: failA === failB ? 0 : 1,
  };
}

export function totalChanges(s: ChangeSummary): number {
  return s.parameters + s.tags + s.steps + s.artifacts + s.failures;
}

/** Parses `steps=a,b` from the page's query, dropping blanks and repeats. */
export function parseSteps(raw: string | null): string[] {
  return [...new Set((raw ?? "").split(",").map((s) => s.trim()).filter(Boolean))];
}
