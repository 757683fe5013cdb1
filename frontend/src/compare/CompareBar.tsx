// The run list's selection bar: shown once a run is ticked, "Compare (2)" opens the pair.
import { useNavigate } from "react-router";
import type { Run } from "../api/types";
import { compareUrl, orderPair } from "./diff";
import "./compare.css";

export function CompareBar({ picked, clear }: { picked: readonly Run[]; clear: () => void }) {
  const navigate = useNavigate();
  if (picked.length === 0) return null;
  const pair = orderPair(picked);
  return (
    <div className="compare-bar" role="toolbar" aria-label="Compare runs">
      <span className="muted">{picked.length === 1 ? "tick one more run" : `${picked.length} runs ticked`}</span>
      <button type="button" className="btn btn-small btn-primary" disabled={!pair} data-testid="compare-button"
        title={pair ? `Compare ${pair[0].pathspec} with ${pair[1].pathspec}` : "Tick exactly two runs"}
        onClick={() => { if (pair) void navigate(compareUrl(pair[0].pathspec, pair[1].pathspec)); }}>
        Compare ({picked.length})
      </button>
      <button type="button" className="btn btn-small" onClick={clear}>Clear</button>
    </div>
  );
}

/** The checkbox cell of a run row (click does not open the run). */
export function PickBox({ run, checked, onPick }: { run: Run; checked: boolean; onPick: (r: Run) => void }) {
  return (
    <div className="cell cmp-check" onClick={(e) => e.stopPropagation()}>
      <input type="checkbox" checked={checked} aria-label={`Select ${run.pathspec} to compare`}
        data-testid="compare-pick" onChange={() => onPick(run)} />
    </div>
  );
}
