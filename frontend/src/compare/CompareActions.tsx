// The run header's compare buttons: "Compare with…" (a picker of recent runs of the flow) and,
// on a failed run, "Compare with previous successful run" in one click.
import { useRef, useState } from "react";
import { useNavigate } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { apiUrl, getJson, seg } from "../api/client";
import type { ListPage, Run } from "../api/types";
import { StatusBadge } from "../ui/status";
import { StatusWhy } from "../triage/StatusWhy";
import { formatTime } from "../ui/format";
import { compareUrl } from "./diff";
import "./compare.css";

function runsOf(flow: string, query: Record<string, string | number | null>, signal?: AbortSignal) {
  return getJson<ListPage<Run>>(apiUrl(`/flows/${seg(flow)}/runs`, query), signal).then((p) => p.data);
}

function Picker({ run, close }: { run: Run; close: () => void }) {
  const navigate = useNavigate();
  const recent = useQuery({
    queryKey: ["compare-picker", run.flow_id],
    queryFn: ({ signal }) => runsOf(run.flow_id, { limit: 30 }, signal),
  });
  const others = (recent.data ?? []).filter((r) => r.pathspec !== run.pathspec);
  return (
    <div className="cmp-picker" role="dialog" aria-label="Pick a run to compare with">
      {recent.isPending && <div className="muted">Loading recent runs…</div>}
      {recent.isError && <div className="cmp-failed">{String((recent.error as Error).message)}</div>}
      {recent.isSuccess && others.length === 0 && <div className="muted">No other runs of {run.flow_id}.</div>}
      {/* A row is the pick button and, beside it (a button cannot hold another), the status's why?. */}
      {others.map((r) => (
        <div key={r.pathspec} className="cmp-pick-row" data-pathspec={r.pathspec}>
          <button type="button" className="cmp-pick"
            onClick={() => {
              close();
              // The older run is the baseline.
              const [a, b] = r.created_at <= run.created_at ? [r, run] : [run, r];
              void navigate(compareUrl(a.pathspec, b.pathspec));
            }}>
            <span className="mono">{r.run_id}</span>
            <StatusBadge status={r.status} />
            <span className="muted num">{formatTime(r.started_at ?? r.created_at)}</span>
          </button>
          <StatusWhy flow={r.flow_id} run={r.run_id} compact />
        </div>
      ))}
    </div>
  );
}

export function CompareActions({ run }: { run: Run }) {
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const pickButton = useRef<HTMLButtonElement>(null);
  const withPrevious = async () => {
    setBusy(true);
    setError(null);
    try {
      const prev = await runsOf(run.flow_id, { status: "completed", created_before: run.created_at, limit: 1 });
      if (prev[0]) void navigate(compareUrl(prev[0].pathspec, run.pathspec, [], true));
      else setError(`no earlier successful run of ${run.flow_id}`);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="cmp-actions" onKeyDown={(e) => {
      // Escape in the picker closes it, the focus back on "Compare with…" (a why? open in it closes first).
      if (e.key === "Escape" && open && !document.querySelector(".why-pop")) { setOpen(false); pickButton.current?.focus(); }
    }}>
      {run.status === "failed" && (
        <button type="button" className="btn btn-small" disabled={busy} onClick={() => void withPrevious()}
          data-testid="compare-previous">
          Compare with previous successful run
        </button>
      )}
      <button type="button" ref={pickButton} className="btn btn-small" aria-expanded={open} onClick={() => setOpen((o) => !o)}
        data-testid="compare-with">
        Compare with…
      </button>
      {error && <span className="cmp-failed" role="alert">{error}</span>}
      {open && <Picker run={run} close={() => setOpen(false)} />}
    </span>
  );
}
