import { describe, expect, it } from "vitest";
import { dagSteps, edgeState, layers, layoutDag, splitBody, type DagStepInput } from "./dagLayout";

const linear: DagStepInput[] = [
  { step_name: "start", type: "start", next: ["middle"] },
  { step_name: "middle", type: "linear", next: ["end"] },
  { step_name: "end", type: "end", next: [] },
];

const branch: DagStepInput[] = [
  { step_name: "start", type: "split-static", next: ["a", "b"], matching_join: "join" },
  { step_name: "a", type: "linear", next: ["join"] },
  { step_name: "b", type: "linear", next: ["b2"] },
  { step_name: "b2", type: "linear", next: ["join"] },
  { step_name: "join", type: "join", next: ["end"] },
  { step_name: "end", type: "end", next: [] },
];

const nested: DagStepInput[] = [
  { step_name: "start", type: "split-foreach", next: ["outer"], matching_join: "join_outer" },
  { step_name: "outer", type: "split-foreach", next: ["inner"], matching_join: "join_inner" },
  { step_name: "inner", type: "linear", next: ["join_inner"] },
  { step_name: "join_inner", type: "join", next: ["join_outer"] },
  { step_name: "join_outer", type: "join", next: ["end"] },
  { step_name: "end", type: "end", next: [] },
];

describe("dag layout", () => {
  it("stacks a linear flow in one column", () => {
    const l = layoutDag(linear, "start");
    const xs = new Set(l.nodes.map((n) => n.x));
    expect(xs.size).toBe(1);
    expect(l.nodes.map((n) => n.layer)).toEqual([0, 1, 2]);
    expect(l.edges).toHaveLength(2);
    expect(l.groups).toHaveLength(0);
  });

  it("layers by longest path, so a join sits below its longest branch", () => {
    const layer = layers(branch, "start");
    expect(layer.get("a")).toBe(1);
    expect(layer.get("b2")).toBe(2);
    expect(layer.get("join")).toBe(3);
  });

  it("places branches side by side without overlap", () => {
    const l = layoutDag(branch, "start");
    const a = l.nodes.find((n) => n.name === "a")!;
    const b = l.nodes.find((n) => n.name === "b")!;
    expect(a.y).toBe(b.y);
    expect(Math.abs(a.x - b.x)).toBeGreaterThanOrEqual(a.w);
  });

  it("boxes a static split's body, excluding the split and the join", () => {
    expect([...splitBody(branch, "start", "join")].sort()).toEqual(["a", "b", "b2"]);
    const l = layoutDag(branch, "start");
    expect(l.groups).toHaveLength(1);
    const g = l.groups[0]!;
    expect(g.kind).toBe("static");
    for (const n of l.nodes.filter((n) => ["a", "b", "b2"].includes(n.name))) {
      expect(n.x).toBeGreaterThan(g.x);
      expect(n.x + n.w).toBeLessThan(g.x + g.w);
    }
    const join = l.nodes.find((n) => n.name === "join")!;
    expect(join.y).toBeGreaterThan(g.y + g.h);
  });

  it("nests foreach boxes, the outer one drawn first and larger", () => {
    const l = layoutDag(nested, "start");
    expect(l.groups.map((g) => g.split)).toEqual(["start", "outer"]);
    const [outer, inner] = l.groups;
    expect(outer!.kind).toBe("foreach");
    expect(outer!.x).toBeLessThan(inner!.x);
    expect(outer!.x + outer!.w).toBeGreaterThan(inner!.x + inner!.w);
  });

  it("keeps everything inside the canvas", () => {
    const l = layoutDag(nested, "start");
    for (const g of l.groups) expect(g.x).toBeGreaterThanOrEqual(0);
    for (const n of l.nodes) expect(n.x + n.w).toBeLessThanOrEqual(l.width);
  });

  it("survives a broken graph with a cycle", () => {
    const broken: DagStepInput[] = [
      { step_name: "start", type: "start", next: ["a"] },
      { step_name: "a", type: "linear", next: ["b"] },
      { step_name: "b", type: "linear", next: ["a"] },
    ];
    expect(layoutDag(broken, "start").nodes).toHaveLength(3);
  });

  it("leaves out bookkeeping steps and lays out steps without a type", () => {
    const recorded: DagStepInput[] = [
      { step_name: "_parameters", type: null, next: [] },
      ...linear,
      { step_name: "orphan", type: null, next: [] },
    ];
    const steps = dagSteps(recorded);
    expect(steps.map((s) => s.step_name)).toEqual(["start", "middle", "end", "orphan"]);
    const l = layoutDag(steps, "start");
    expect(l.nodes.map((n) => n.name).sort()).toEqual(["end", "middle", "orphan", "start"]);
    expect(l.nodes.find((n) => n.name === "start")!.layer).toBe(0);
  });
});

const switchLoop: DagStepInput[] = [
  { step_name: "start", type: "split-switch", next: ["fast", "slow"], switch_cases: { fast: "fast", slow: "slow" } },
  { step_name: "fast", type: "linear", next: ["loop"] },
  { step_name: "slow", type: "linear", next: ["loop"] },
  { step_name: "loop", type: "split-switch", next: ["loop", "end"], switch_cases: { again: "loop", done: "end" } },
  { step_name: "end", type: "end", next: [] },
];

describe("switches and recursive steps", () => {
  it("layers a recursive step by its parents, not below end (its own loop is no edge)", () => {
    const layer = layers(switchLoop, "start");
    expect(layer.get("loop")).toBe(2);
    expect(layer.get("end")).toBe(3);
  });

  it("labels each switch edge with its cases and draws the loop as an arc on the step", () => {
    const l = layoutDag(switchLoop, "start");
    const edge = (from: string, to: string) => l.edges.find((e) => e.from === from && e.to === to)!;
    expect(edge("start", "fast").cases).toEqual(["fast"]);
    expect(edge("loop", "end").cases).toEqual(["done"]);
    expect(edge("fast", "loop").cases).toEqual([]);
    expect(l.edges.some((e) => e.from === "loop" && e.to === "loop")).toBe(false);
    expect(l.loops).toHaveLength(1);
    const loop = l.loops[0]!;
    const box = l.nodes.find((n) => n.name === "loop")!;
    expect(loop.cases).toEqual(["again"]);
    expect(loop.lx).toBeGreaterThan(box.x + box.w);
    expect(l.width).toBeGreaterThan(loop.lx + 60);        // room for the "↻ 3 iterations" label
    // a label sits on its edge's midpoint, between the two boxes
    const s = l.nodes.find((n) => n.name === "start")!;
    expect(edge("start", "fast").ly).toBeGreaterThan(s.y + s.h);
  });

  it("one edge, with every case, when two cases lead to the same step", () => {
    const steps: DagStepInput[] = [
      { step_name: "start", type: "split-switch", next: ["a", "a", "end"], switch_cases: { x: "a", y: "a", z: "end" } },
      { step_name: "a", type: "linear", next: ["end"] },
      { step_name: "end", type: "end", next: [] },
    ];
    const l = layoutDag(steps, "start");
    expect(l.edges.filter((e) => e.from === "start" && e.to === "a").map((e) => e.cases)).toEqual([["x", "y"]]);
  });

  it("draws a case taken strong and the others dashed once the run is over", () => {
    const counts = (total: number) => ({ task_counts: { total } });
    const steps = new Map(switchLoop.map((s) => [s.step_name, { ...s, ...counts(s.step_name === "slow" ? 0 : 1) }]));
    const st = (from: string, to: string, run: string) => edgeState(steps.get(from), steps.get(to), run, steps);
    expect(st("start", "fast", "completed")).toBe("taken");
    expect(st("start", "slow", "completed")).toBe("untaken");
    expect(st("start", "slow", "running")).toBe("plain");      // may still be taken
    expect(st("start", "slow", "failed")).toBe("untaken");      // another case ran
    expect(st("fast", "loop", "completed")).toBe("plain");      // not a switch
    const none = new Map([...steps].map(([k, v]) => [k, { ...v, ...counts(k === "start" ? 1 : 0) }]));
    expect(edgeState(none.get("start"), none.get("slow"), "failed", none)).toBe("plain");  // failed before choosing
  });
});
