import { describe, expect, it } from "vitest";
import { dagSteps, layers, layoutDag, splitBody, type DagStepInput } from "./dagLayout";

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
