import { describe, expect, it } from "vitest";
import { fold, type Row } from "./logDiffFold";

const eq = (n: number): Row => ({ op: "equal", a: { line: n, text: `l${n}` }, b: { line: n, text: `l${n}` } });
const ch = (n: number): Row => ({ op: "changed", a: { line: n, text: "x" }, b: { line: n, text: "y" } });

describe("fold", () => {
  it("folds long equal runs, keeping context around changes", () => {
    const rows = [...Array.from({ length: 20 }, (_, i) => eq(i + 1)), ch(21), ...Array.from({ length: 20 }, (_, i) => eq(i + 22))];
    const kinds = fold(rows).map((p) => (p.kind === "fold" ? `fold${p.rows.length}` : p.row.op));
    // leading run: no head context (nothing before it), 3 lines before the change
    expect(kinds).toEqual(["fold17", "equal", "equal", "equal", "changed", "equal", "equal", "equal", "fold17"]);
  });
  it("keeps short runs and all-changed diffs as they are", () => {
    expect(fold([eq(1), ch(2), eq(3)]).every((p) => p.kind === "row")).toBe(true);
    expect(fold([])).toEqual([]);
  });
});
