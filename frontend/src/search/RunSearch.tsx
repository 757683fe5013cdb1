// Run-wide log search: every task's stdout and stderr; each hit links to its exact line.
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { searchRunLogs } from "../api/search";
import type { Run, SearchHit } from "../api/types";
import { formatPath } from "../nav/viewState";
import { useView } from "../nav/useView";
import { Empty, ErrorBox, Loading } from "../ui/states";
import { stripAnsi } from "../logs/ansi";

const MAX_SHOWN = 2000;

export function RunSearch({ run }: { run: Run }) {
  const [view, setView] = useView();
  const [text, setText] = useState(view.q);
  const [hits, setHits] = useState<SearchHit[]>([]);
  const [state, setState] = useState<{ busy: boolean; error: unknown; note: string | null }>({ busy: false, error: null, note: null });

  useEffect(() => {
    if (!view.q) { setHits([]); return; }
    const ctl = new AbortController();
    setHits([]);
    setState({ busy: true, error: null, note: null });
    searchRunLogs(run.flow_id, run.run_id, { q: view.q }, (h) => setHits((old) => (old.length >= MAX_SHOWN ? old : [...old, ...h].slice(0, MAX_SHOWN))), ctl.signal)
      .then((done) => setState({ busy: false, error: null, note: done?.truncated ? `stopped early: ${done.reason ?? "limit reached"}` : null }))
      .catch((error: unknown) => { if (!ctl.signal.aborted) setState({ busy: false, error, note: null }); });
    return () => ctl.abort();
  }, [view.q, run.flow_id, run.run_id]);

  return (
    <div className="panel-body">
      <form className="toolbar" onSubmit={(e) => { e.preventDefault(); setView((s) => ({ ...s, q: text.trim() }), { replace: true }); }}>
        <input className="input" style={{ width: 360 }} placeholder="Search all logs of this run…" aria-label="Search run logs"
          data-shortcut="search" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit" className="btn btn-primary btn-small">Search</button>
        <span className="muted" data-testid="search-count">
          {state.busy ? "searching…" : view.q ? `${hits.length}${hits.length >= MAX_SHOWN ? "+" : ""} matches` : ""}
        </span>
        {state.note && <span className="run-reason" data-testid="search-note">{state.note}</span>}
      </form>
      {state.error ? <ErrorBox error={state.error} /> : null}
      {!view.q ? <Empty>Type a word or a regular expression and press Enter.</Empty>
        : state.busy && hits.length === 0 ? <Loading label="Searching" />
        : !state.busy && hits.length === 0 && !state.error ? <Empty>No line matches “{view.q}”.</Empty>
        : (
          <div data-testid="search-results">
            {hits.map((h, i) => {
              const to = `${formatPath({ flow: run.flow_id, run: run.run_id, step: h.step_name, task: String(h.task_id) })}${h.stream === "stderr" ? "?stream=stderr" : ""}${h.attempt ? `${h.stream === "stderr" ? "&" : "?"}attempt=${h.attempt}` : ""}#L${h.line}`;
              return (
                <Link key={i} to={to} className="search-hit">
                  <span className="cell">{h.step_name}/{h.task_id} <span className="faint">{h.stream}</span></span>
                  <span className="faint num" style={{ textAlign: "right" }}>L{h.line}</span>
                  <span className="cell" style={{ color: "var(--text)" }}>{stripAnsi(h.text)}</span>
                </Link>
              );
            })}
          </div>
        )}
    </div>
  );
}
