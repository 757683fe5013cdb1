// One attempt's stdout or stderr: virtualized, windowed for huge logs, ANSI-coloured, searchable,
// with line permalinks (#L120, shift-click for #L120-140), follow-tail and download.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import { logDownloadUrl, type Stream } from "../api/logs";
import { searchRunLogs } from "../api/search";
import type { TaskRef } from "../api/task";
import { useRun } from "../api/runs";
import { isTyping } from "../shell/shortcuts";
import { ErrorBox, Loading } from "../ui/states";
import { formatCount } from "../ui/format";
import { stripAnsi } from "./ansi";
import { LINE_H } from "./logWindow";
import { LogLineView } from "./LogLineView";
import { useLogLines } from "./useLogLines";

interface Props {
  task: TaskRef;
  stream: Stream;
  attempt: number | null;
  timestamps: boolean;
  wrap: boolean;
  lines: [number, number] | null;
  onLines: (lines: [number, number] | null) => void;
  onToggle: (key: "timestamps" | "wrap") => void;
}

export function LogView({ task, stream, attempt: asked, timestamps, wrap, lines, onLines, onToggle }: Props) {
  const log = useLogLines(task, stream, asked, lines?.[0] ?? null);
  const metaflow = useRun(task.flow, task.run).data?.source === "metaflow";
  // The attempt shown (the latest's number once the first page answered).
  const attempt = log.attempt;
  const scrollRef = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(lines === null);
  const [query, setQuery] = useState("");
  const [matches, setMatches] = useState<number[]>([]);
  const [current, setCurrent] = useState(-1);
  const [searching, setSearching] = useState(false);
  const { base, count } = log.win;

  const v = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => LINE_H,
    overscan: 30,
    measureElement: wrap ? (el) => el.getBoundingClientRect().height : undefined,
  });
  const items = v.getVirtualItems();
  const firstVisible = base + (items[0]?.index ?? 0);
  const lastVisible = base + (items[items.length - 1]?.index ?? 0);

  // Keep the scroll position on the same lines when the window slides.
  const prevBase = useRef(base);
  const pendingJump = useRef<number | null>(null);
  const jumping = useRef(false);
  const [landed, setLanded] = useState(0);
  useEffect(() => {
    const el = scrollRef.current;
    if (el && prevBase.current !== base && count > 0) {
      const jump = pendingJump.current;
      pendingJump.current = null;
      if (jump !== null) {
        v.scrollToIndex(jump - base, { align: "center" });
        // Until that scroll lands, the visible range still describes the old spot: don't slide on it.
        requestAnimationFrame(() => requestAnimationFrame(() => { jumping.current = false; setLanded((n) => n + 1); }));
      } else {
        el.scrollTop += (prevBase.current - base) * LINE_H;
      }
    }
    prevBase.current = base;
  }, [base, count]);

  // Pages are only asked for once the view sits where it opens (tail or permalink): the range seen
  // before that first scroll (the window's top) is not what the user looks at.
  const [settled, setSettled] = useState(false);
  useEffect(() => {
    if (settled && !jumping.current && log.status === "ready" && count > 0) log.onRange(firstVisible, lastVisible);
  }, [firstVisible, lastVisible, log.status, count, settled, landed]);

  // Open at the permalink, or at the tail; then stay at the tail while following.
  const opened = useRef(false);
  useEffect(() => {
    if (log.status !== "ready" || count === 0) return;
    if (!opened.current) {
      opened.current = true;
      if (lines) v.scrollToIndex(Math.max(0, lines[0] - base - 3), { align: "start" });
      else v.scrollToIndex(count - 1, { align: "end" });
      requestAnimationFrame(() => requestAnimationFrame(() => setSettled(true)));
    } else if (follow) {
      v.scrollToIndex(count - 1, { align: "end" });
    }
  }, [log.status, count, log.version]);

  /** Scrolls a line into view; a line outside the window moves the window first (the base effect then scrolls). */
  const reveal = useCallback((line: number) => {
    setFollow(false);
    if (line >= base && line < base + count) {
      v.scrollToIndex(line - base, { align: "center" });
    } else {
      pendingJump.current = line;
      jumping.current = true;
      log.jumpTo(line);
    }
  }, [base, count, v, log.jumpTo]);

  // A permalink followed within the page (hash change) brings its line into view.
  const target = lines?.[0] ?? null;
  useEffect(() => {
    if (target === null || !opened.current) return;
    if (target >= firstVisible + 2 && target <= lastVisible - 2) return;
    reveal(target);
  }, [target]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (el) setFollow(el.scrollHeight - el.scrollTop - el.clientHeight < LINE_H * 2);
  };

  const goTo = reveal;

  const runSearch = useCallback(async (q: string) => {
    setMatches([]);
    setCurrent(-1);
    if (!q) return;
    const store = log.store;
    const needle = q.toLowerCase();
    if (store.hasAll(1, log.total)) {
      // The whole log is here: search it in the browser.
      const found = store.find((t) => stripAnsi(t).toLowerCase().includes(needle));
      setMatches(found);
      if (found.length) { setCurrent(0); goTo(found[0]!); }
      return;
    }
    setSearching(true);
    const found: number[] = [];
    const ctl = new AbortController();
    try {
      await searchRunLogs(task.flow, task.run, { q, step: task.step, task: task.task, stream, attempt }, (hits) => {
        // The server already narrows to this task and attempt; the check guards older servers.
        for (const h of hits) if (String(h.task_id) === task.task && h.step_name === task.step && (!h.stream || h.stream === stream)
          && (attempt === null || h.attempt === undefined || h.attempt === attempt)) found.push(h.line);
        found.sort((a, b) => a - b);
        setMatches([...found]);
      }, ctl.signal);
    } catch {
      // fall back to the lines we have
      found.push(...store.find((t) => stripAnsi(t).toLowerCase().includes(needle)));
      setMatches(found);
    } finally {
      setSearching(false);
    }
    if (found.length) { setCurrent(0); goTo(found[0]!); }
  }, [log.store, log.total, task, stream, attempt, goTo]);

  const step = useCallback((dir: 1 | -1) => {
    if (!matches.length) return;
    const next = (current + dir + matches.length) % matches.length;
    setCurrent(next);
    setFollow(false);
    goTo(matches[next]!);
  }, [matches, current, goTo]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "t") onToggle("timestamps");
      else if (e.key === "w") onToggle("wrap");
      else if (e.key === "n") step(1);
      else if (e.key === "N") step(-1);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onToggle, step]);

  const onNumber = useCallback((n: number, extend: boolean) => {
    setFollow(false);
    if (extend && lines) onLines([Math.min(lines[0], n), Math.max(lines[0], n)]);
    else onLines([n, n]);
  }, [lines, onLines]);

  const currentLine = current >= 0 ? matches[current] : undefined;
  const matchSet = useMemo(() => new Set(matches), [matches]);

  return (
    <div className="panel-body" style={{ overflow: "hidden" }}>
      <div className="toolbar">
        <input className="input" style={{ width: 220 }} placeholder="Find in log…" aria-label="Find in log" data-shortcut="search"
          value={query} onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              if (matches.length && e.shiftKey) step(-1);
              else if (matches.length && current >= 0) step(1);
              else void runSearch(query);
            }
          }}
          onBlur={() => { if (query && !matches.length) void runSearch(query); }} />
        <button type="button" className="btn btn-small" onClick={() => step(-1)} disabled={!matches.length} title="Previous match (N)">↑</button>
        <button type="button" className="btn btn-small" onClick={() => step(1)} disabled={!matches.length} title="Next match (n)">↓</button>
        <span className="muted" data-testid="match-count">
          {searching ? "searching…" : query && matches.length ? `${current + 1} / ${matches.length}` : query && current === -1 && matches.length === 0 ? "" : ""}
        </span>
        <span className="sep" />
        <button type="button" className="btn btn-small" aria-pressed={timestamps} onClick={() => onToggle("timestamps")} title="Timestamps (t)">Timestamps</button>
        <button type="button" className="btn btn-small" aria-pressed={wrap} onClick={() => onToggle("wrap")} title="Wrap lines (w)">Wrap</button>
        <button type="button" className="btn btn-small" aria-pressed={follow} title="Follow the end of the log"
          onClick={() => { setFollow(true); if (count) v.scrollToIndex(count - 1, { align: "end" }); }}>Follow</button>
        <a className="btn btn-small" href={logDownloadUrl(task, stream, attempt)} download>Download</a>
        <span className="log-status" style={{ marginLeft: "auto" }}>
          {log.status === "ready" && <span className="num" data-testid="log-total">{formatCount(log.total)} line{log.total === 1 ? "" : "s"}</span>}
          {log.status === "ready" && !log.complete && <span className="badge status-running"><span className="dot" />live</span>}
        </span>
      </div>
      {log.status === "loading" && <Loading label={`Loading ${stream}`} />}
      {log.status === "error" && <ErrorBox error={log.error} />}
      {log.status === "ready" && log.total === 0 && (
        <div className="state state-empty" data-testid="log-empty" style={{ flexDirection: "column" }}>
          <div>{log.complete ? `No ${stream} output.` : `Waiting for ${stream}…`}</div>
          {/* A Metaflow task's log comes from Metaflow's datastore: a local run writes it when the
              task's process exits (docs/metaflow.md, Limits), so "waiting" can last the whole task. */}
          {!log.complete && metaflow && (
            <div className="muted" style={{ maxWidth: 640, textAlign: "center" }}>
              This run is recorded from Metaflow. For a task running locally, Metaflow writes a task&apos;s log when the
              task ends: its lines arrive then, all at once. Remote tasks (@kubernetes, @batch) upload theirs every few seconds.
            </div>
          )}
        </div>
      )}
      {log.status === "ready" && log.total > 0 && (
        <div className={`log${wrap ? " wrap" : ""}`} ref={scrollRef} onScroll={onScroll} data-testid={`log-${stream}`} role="log">
          <div style={{ height: v.getTotalSize(), position: "relative" }}>
            {items.map((item) => {
              const n = base + item.index;
              const selected = lines !== null && n >= lines[0] && n <= lines[1];
              return (
                <div key={item.key} data-index={item.index} ref={wrap ? v.measureElement : undefined}
                  className={`log-line${selected ? " selected" : ""}`} data-line={n}
                  style={{ top: item.start, minHeight: LINE_H }}>
                  <LogLineView line={log.get(n)} number={n} timestamps={timestamps}
                    needle={matchSet.has(n) ? query : ""} current={n === currentLine} onNumber={onNumber} />
                </div>
              );
            })}
          </div>
        </div>
      )}
    </div>
  );
}
