// Step-level DAG layout: layers by longest path from start (top to bottom), order within a
// layer by parents' positions, and a box around the body of every split (between the split
// and its matching join). A switch's edges carry their case labels; a recursive step (a switch
// with a case naming the step itself) gets a loop drawn on its right side instead of an edge.
// Pure and small: a flow has tens of steps, so this takes microseconds.

export interface DagStepInput {
  step_name: string;
  /** null for a step the flow's graph does not describe (e.g. recorded by an older ingest). */
  type: string | null;
  next: string[];
  matching_join?: string | null;
  /** A switch: case value → step (Metaflow's `switch_cases`), and the artifact it switches on. */
  switch_cases?: Record<string, string> | null;
  condition?: string | null;
}

export interface NodeBox { name: string; x: number; y: number; w: number; h: number; layer: number }
/** `cases`: the switch cases that lead along this edge; the label sits at (lx, ly). */
export interface EdgePath { from: string; to: string; d: string; cases: string[]; lx: number; ly: number }
/** A recursive step's loop: an arc leaving the node's right side and coming back into it. */
export interface LoopPath { step: string; d: string; cases: string[]; lx: number; ly: number }
export interface GroupBox { kind: "static" | "foreach"; split: string; join: string | null; x: number; y: number; w: number; h: number; depth: number }
export interface DagLayout { nodes: NodeBox[]; edges: EdgePath[]; loops: LoopPath[]; groups: GroupBox[]; width: number; height: number }

export const NODE_W = 180;
export const NODE_H = 48;
const GAP_X = 40;
const GAP_Y = 60;
const PAD = 14;
/** Room above a split body's nodes for its label. */
const LABEL_H = 16;
const MARGIN = 24;
/** How far a loop arc reaches right of its node; its label ("↻ up to 12 iterations" over
 * "while status = again") needs about this much per character. */
const LOOP_W = 34;
const LOOP_CHAR_W = 6.6;

/** The second line of a loop's label: which case keeps it going. */
export function loopCaseText(s: DagStepInput): string {
  return `while ${s.condition ?? "case"} = ${casesTo(s, s.step_name).join(" | ")}`;
}

/** A step's successors without its own loop edge, once each (a switch may name a step twice). */
export function successors(s: DagStepInput): string[] {
  return s.next.filter((n, i) => n !== s.step_name && s.next.indexOf(n) === i);
}

/** Case labels of a switch that lead to `to`, in case order. */
export function casesTo(s: DagStepInput, to: string): string[] {
  return Object.entries(s.switch_cases ?? {}).filter(([, target]) => target === to).map(([c]) => c);
}

export function isRecursive(s: DagStepInput): boolean {
  return s.type === "split-switch" && s.next.includes(s.step_name);
}

interface RanInput extends DagStepInput { task_counts?: { total: number } | null }

export function ran(step: RanInput | undefined): boolean {
  return (step?.task_counts?.total ?? 0) > 0;
}

/** How an edge out of a switch is drawn: "taken" once a task went that way; "untaken" when no task
 * did and none will — the run completed, or it failed after the switch took another case; else
 * plain (a running run may still take it). */
export function edgeState(from: RanInput | undefined, to: RanInput | undefined, runStatus: string,
  steps: Map<string, RanInput>): "taken" | "untaken" | "plain" {
  // nothing leaves a step that never ran: its edges are as dead as the step
  if ((from as { status?: string | null } | undefined)?.status === "skipped") return "untaken";
  if (from?.type !== "split-switch") return "plain";
  if (ran(from) && ran(to)) return "taken";
  if (ran(to)) return "plain";
  const otherCaseRan = from.next.some((n) => n !== to?.step_name && n !== from.step_name && ran(steps.get(n)));
  return runStatus === "completed" || (runStatus === "failed" && otherCaseRan) ? "untaken" : "plain";
}

export function layers(steps: DagStepInput[], start: string): Map<string, number> {
  const byName = new Map(steps.map((s) => [s.step_name, s]));
  const layer = new Map<string, number>();
  // Longest path over a DAG: relax in topological order (Kahn), ignoring edges to unknown steps.
  const indeg = new Map<string, number>(steps.map((s) => [s.step_name, 0]));
  for (const s of steps) for (const n of successors(s)) if (indeg.has(n)) indeg.set(n, indeg.get(n)! + 1);
  const queue = steps.filter((s) => indeg.get(s.step_name) === 0).map((s) => s.step_name);
  if (!queue.includes(start) && byName.has(start)) queue.unshift(start);
  for (const q of queue) layer.set(q, 0);
  while (queue.length) {
    const name = queue.shift()!;
    const step = byName.get(name);
    for (const n of step ? successors(step) : []) {
      if (!indeg.has(n)) continue;
      layer.set(n, Math.max(layer.get(n) ?? 0, (layer.get(name) ?? 0) + 1));
      indeg.set(n, indeg.get(n)! - 1);
      if (indeg.get(n) === 0) queue.push(n);
    }
  }
  // Anything left (a cycle in a broken flow) goes below everything else rather than vanishing.
  let max = Math.max(0, ...layer.values());
  for (const s of steps) if (!layer.has(s.step_name)) layer.set(s.step_name, ++max);
  return layer;
}

/** Steps strictly inside a split: reachable from it without passing its matching join. */
export function splitBody(steps: DagStepInput[], split: string, join: string | null): Set<string> {
  const byName = new Map(steps.map((s) => [s.step_name, s]));
  const body = new Set<string>();
  const stack = [...(byName.get(split)?.next ?? [])];
  while (stack.length) {
    const n = stack.pop()!;
    if (n === join || body.has(n) || !byName.has(n)) continue;
    body.add(n);
    stack.push(...successors(byName.get(n)!));
  }
  return body;
}

/** The steps to draw: Metaflow's bookkeeping steps (`_parameters`, any `_`-prefixed name) are
 * not part of the flow; runs recorded before the backend hid them may still list them. */
export function dagSteps<T extends DagStepInput>(steps: T[]): T[] {
  return steps.filter((s) => !s.step_name.startsWith("_"));
}

export function layoutDag(steps: DagStepInput[], start: string): DagLayout {
  const layerOf = layers(steps, start);
  const parents = new Map<string, string[]>();
  for (const s of steps) for (const n of successors(s)) parents.set(n, [...(parents.get(n) ?? []), s.step_name]);
  const depth = Math.max(0, ...layerOf.values()) + 1;
  const rows: string[][] = Array.from({ length: depth }, () => []);
  for (const s of steps) rows[layerOf.get(s.step_name)!]!.push(s.step_name);

  // Order each layer by the mean position of its parents (barycenter), keeping graph order on ties.
  const xIndex = new Map<string, number>();
  rows.forEach((row, li) => {
    if (li > 0) {
      const key = (n: string) => {
        const ps = (parents.get(n) ?? []).filter((p) => xIndex.has(p));
        return ps.length ? ps.reduce((a, p) => a + xIndex.get(p)!, 0) / ps.length : 0;
      };
      const order = new Map(row.map((n, i) => [n, i]));
      row.sort((a, b) => key(a) - key(b) || order.get(a)! - order.get(b)!);
    }
    row.forEach((n, i) => xIndex.set(n, i - (row.length - 1) / 2));
  });

  // Each layer centred on one axis; children of a split spread around their parent.
  const widest = Math.max(...rows.map((r) => r.length));
  const totalW = widest * NODE_W + (widest - 1) * GAP_X;
  const nodes: NodeBox[] = [];
  const pos = new Map<string, NodeBox>();
  rows.forEach((row, li) => {
    const rowW = row.length * NODE_W + (row.length - 1) * GAP_X;
    row.forEach((name, i) => {
      const box = {
        name, layer: li, w: NODE_W, h: NODE_H,
        x: MARGIN + (totalW - rowW) / 2 + i * (NODE_W + GAP_X),
        y: MARGIN + li * (NODE_H + GAP_Y),
      };
      nodes.push(box);
      pos.set(name, box);
    });
  });

  const edges: EdgePath[] = [];
  const loops: LoopPath[] = [];
  for (const s of steps) {
    const a = pos.get(s.step_name);
    for (const n of successors(s)) {
      const b = pos.get(n);
      if (!a || !b) continue;
      const x1 = a.x + a.w / 2, y1 = a.y + a.h, x2 = b.x + b.w / 2, y2 = b.y;
      const my = (y1 + y2) / 2;
      // the curve's midpoint (t = 0.5 of this cubic) is ((x1 + x2) / 2, my): the case label goes there
      edges.push({ from: s.step_name, to: n, d: `M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2}`,
        cases: casesTo(s, n), lx: (x1 + x2) / 2, ly: my });
    }
    if (a && isRecursive(s)) {
      const x = a.x + a.w, top = a.y + a.h * 0.28, bottom = a.y + a.h * 0.72;
      loops.push({ step: s.step_name, cases: casesTo(s, s.step_name), lx: x + LOOP_W + 6, ly: a.y + a.h / 2,
        d: `M${x},${bottom} C${x + LOOP_W},${bottom + 14} ${x + LOOP_W},${top - 14} ${x},${top}` });
    }
  }

  // Split bodies: innermost first, so an outer box is padded around the inner ones.
  const splits = steps.filter((s) => s.type === "split-static" || s.type === "split-foreach" || s.type === "split-parallel");
  const bodies = splits.map((s) => ({ s, body: splitBody(steps, s.step_name, s.matching_join ?? null) }));
  const nesting = (b: Set<string>) => bodies.filter((o) => o.body.size < b.size && [...o.body].every((n) => b.has(n))).length;
  const groups: GroupBox[] = bodies
    .filter((b) => b.body.size > 0)
    .map(({ s, body }) => {
      const boxes = [...body].map((n) => pos.get(n)!).filter(Boolean);
      const inner = nesting(body);
      const pad = PAD + inner * 10;
      const x0 = Math.min(...boxes.map((b) => b.x)) - pad;
      const y0 = Math.min(...boxes.map((b) => b.y)) - pad - LABEL_H + 6;
      const x1 = Math.max(...boxes.map((b) => b.x + b.w)) + pad;
      const y1 = Math.max(...boxes.map((b) => b.y + b.h)) + pad - 6;
      // A @parallel gang (split-parallel) fans out like a foreach: one task per node.
      return { kind: s.type === "split-static" ? "static" as const : "foreach" as const, split: s.step_name,
        join: s.matching_join ?? null, x: x0, y: y0, w: x1 - x0, h: y1 - y0, depth: inner };
    })
    .sort((a, b) => b.depth - a.depth);

  const byName = new Map(steps.map((s) => [s.step_name, s]));
  const loopRoom = (name: string) => {
    const s = byName.get(name)!;
    return LOOP_W + 12 + LOOP_CHAR_W * Math.max("↻ up to 1000 iterations".length, loopCaseText(s).length);
  };
  const loopRight = new Set(loops.map((l) => l.step));
  const maxX = Math.max(...nodes.map((n) => n.x + n.w + (loopRight.has(n.name) ? loopRoom(n.name) : 0)),
    ...groups.map((g) => g.x + g.w));
  const minX = Math.min(MARGIN, ...groups.map((g) => g.x));
  const shift = minX < MARGIN ? MARGIN - minX : 0;
  if (shift) {
    for (const n of nodes) n.x += shift;
    for (const g of groups) g.x += shift;
    for (const e of [...edges, ...loops]) {
      e.d = e.d.replace(/(-?\d+(?:\.\d+)?),/g, (_m, x: string) => `${Number(x) + shift},`);
      e.lx += shift;
    }
  }
  return { nodes, edges, loops, groups, width: maxX + shift + MARGIN, height: MARGIN * 2 + depth * NODE_H + (depth - 1) * GAP_Y };
}
