// Folding long runs of equal lines in a log diff (pure, unit-tested in logDiffFold.test.ts).
import type { LogDiff } from "../api/types";

const CONTEXT = 3;

export type Row = LogDiff["rows"][number];
export type Piece = { kind: "row"; row: Row } | { kind: "fold"; rows: Row[]; id: number };

/** Rows with runs of equal lines longer than 2 × CONTEXT folded, keeping CONTEXT lines around changes. */
export function fold(rows: readonly Row[]): Piece[] {
  const out: Piece[] = [];
  let i = 0;
  while (i < rows.length) {
    if (rows[i]!.op !== "equal") { out.push({ kind: "row", row: rows[i]! }); i++; continue; }
    let j = i;
    while (j < rows.length && rows[j]!.op === "equal") j++;
    const run = rows.slice(i, j);
    const head = i === 0 ? 0 : CONTEXT;
    const tail = j === rows.length ? 0 : CONTEXT;
    if (run.length > head + tail + 2) {
      run.slice(0, head).forEach((row) => out.push({ kind: "row", row }));
      out.push({ kind: "fold", rows: run.slice(head, run.length - tail), id: i });
      run.slice(run.length - tail).forEach((row) => out.push({ kind: "row", row }));
    } else {
      run.forEach((row) => out.push({ kind: "row", row }));
    }
    i = j;
  }
  return out;
}

