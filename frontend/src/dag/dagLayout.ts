// Step-level DAG layout: layers by longest path from start (top to bottom), order within a
// layer by parents' positions, and a box around the body of every split (between the split
// and its matching join). Pure and small: a flow has tens of steps, so this takes microseconds.

export interface DagStepInput {
  step_name: string;
  /** null for a step the flow's graph does not describe (e.g. recorded by an older ingest). */
  type: string | null;
  next: string[];
  matching_join?: string | null;
}

export interface NodeBox { name: string; x: number; y: number; w: number; h: number; layer: number }
export interface EdgePath { from: string; to: string; d: string }
export interface GroupBox { kind: "static" | "foreach"; split: string; join: string | null; x: number; y: number; w: number; h: number; depth: number }
export interface DagLayout { nodes: NodeBox[]; edges: EdgePath[]; groups: GroupBox[]; width: number; height: number }

export const NODE_W = 180;
export const NODE_H = 48;
const GAP_X = 40;
const GAP_Y = 60;
const PAD = 14;
/** Room above a split body's nodes for its label. */
const LABEL_H = 16;
const MARGIN = 24;

export function layers(steps: DagStepInput[], start: string): Map<string, number> {
  const byName = new Map(steps.map((s) => [s.step_name, s]));
  const layer = new Map<string, number>();
  // Longest path over a DAG: relax in topological order (Kahn), ignoring edges to unknown steps.
  const indeg = new Map<string, number>(steps.map((s) => [s.step_name, 0]));
  for (const s of steps) for (const n of s.next) if (indeg.has(n)) indeg.set(n, indeg.get(n)! + 1);
  const queue = steps.filter((s) => indeg.get(s.step_name) === 0).map((s) => s.step_name);
  if (!queue.includes(start) && byName.has(start)) queue.unshift(start);
  for (const q of queue) layer.set(q, 0);
  while (queue.length) {
    const name = queue.shift()!;
    for (const n of byName.get(name)?.next ?? []) {
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
    stack.push(...byName.get(n)!.next);
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
  for (const s of steps) for (const n of s.next) parents.set(n, [...(parents.get(n) ?? []), s.step_name]);
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
  for (const s of steps) {
    const a = pos.get(s.step_name);
    for (const n of s.next) {
      const b = pos.get(n);
      if (!a || !b) continue;
      const x1 = a.x + a.w / 2, y1 = a.y + a.h, x2 = b.x + b.w / 2, y2 = b.y;
      const my = (y1 + y2) / 2;
      edges.push({ from: s.step_name, to: n, d: `M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2}` });
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

  const maxX = Math.max(...nodes.map((n) => n.x + n.w), ...groups.map((g) => g.x + g.w));
  const minX = Math.min(MARGIN, ...groups.map((g) => g.x));
  const shift = minX < MARGIN ? MARGIN - minX : 0;
  if (shift) {
    for (const n of nodes) n.x += shift;
    for (const g of groups) g.x += shift;
    for (const e of edges) e.d = e.d.replace(/(-?\d+(?:\.\d+)?),/g, (_m, x: string) => `${Number(x) + shift},`);
  }
  return { nodes, edges, groups, width: maxX + shift + MARGIN, height: MARGIN * 2 + depth * NODE_H + (depth - 1) * GAP_Y };
}
