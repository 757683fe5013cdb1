// The data side of a log view: opens at the tail (or a permalink), pages lines in as they come
// into view, keeps a bounded cache, and appends lines pushed over the websocket while the attempt runs.
import { useCallback, useEffect, useRef, useState } from "react";
import { apiUrl } from "../api/client";
import { fetchLogPage, logPath, type Stream } from "../api/logs";
import type { LogLine } from "../api/types";
import type { TaskRef } from "../api/task";
import { useLiveResource } from "../live/useLive";
import { growWindow, initialWindow, LineStore, PAGE, pageQuery, slideWindow, type LineWindow } from "./logWindow";

export interface LogLines {
  status: "loading" | "error" | "ready";
  error: unknown;
  /** The attempt shown: the one asked for, or the one the server answered for "latest". */
  attempt: number | null;
  total: number;
  complete: boolean;
  win: LineWindow;
  get: (line: number) => LogLine | undefined;
  /** Call with the visible line range; fetches missing pages and may slide the window. */
  onRange: (first: number, last: number) => void;
  /** Moves the window so it holds `line` (a permalink outside the current window). */
  jumpTo: (line: number) => void;
  version: number;
  store: LineStore;
}

/** `asked` null opens the task's latest attempt; its number comes with the first answer and every later page asks for it. */
export function useLogLines(task: TaskRef, stream: Stream, asked: number | null, focus: number | null): LogLines {
  const storeRef = useRef(new LineStore());
  const inflight = useRef(new Set<number>());
  const [state, setState] = useState<{ status: LogLines["status"]; error: unknown; total: number; complete: boolean; win: LineWindow }>(
    { status: "loading", error: null, total: 0, complete: false, win: { base: 1, count: 0 } },
  );
  const [version, setVersion] = useState(0);
  const totalRef = useRef(0);
  const [answered, setAnswered] = useState<number | null>(asked);
  // The live feed's seq of the opening tail page: following from it, no line written between that
  // answer and the subscription is missed (null: follow from the subscription on; see LogPageInfo.seq).
  const followFrom = useRef<number | null>(null);
  const attempt = asked ?? answered;
  const attemptRef = useRef(attempt);
  attemptRef.current = attempt;
  const key = `${task.flow}/${task.run}/${task.step}/${task.task}/${stream}/${asked}`;

  useEffect(() => {
    const ctl = new AbortController();
    storeRef.current = new LineStore();
    inflight.current = new Set();
    setState({ status: "loading", error: null, total: 0, complete: false, win: { base: 1, count: 0 } });
    // Open at the tail; a permalink's page is asked for at the same time (not after the tail
    // answered), and dropped if the log turns out shorter or the tail already holds the line.
    const focusPage = focus !== null ? Math.floor((Math.max(1, focus) - 1) / PAGE) : null;
    const around = focusPage !== null
      ? fetchLogPage(task, stream, asked, pageQuery(focusPage), ctl.signal).catch(() => null)
      : Promise.resolve(null);
    fetchLogPage(task, stream, asked, { tail: PAGE }, ctl.signal)
      .then(async (page) => {
        storeRef.current.add(page.data);
        followFrom.current = page.seq ?? null;
        const total = page.total_lines;
        const answeredAttempt = asked ?? page.attempt ?? null;
        setAnswered(answeredAttempt);
        attemptRef.current = answeredAttempt;
        if (focus !== null && focusPage !== null && focus <= total && !storeRef.current.get(focus)) {
          let near = await around;
          // Both answers must be of the same attempt (a retry may start in between).
          if (!near || (near.attempt !== undefined && near.attempt !== answeredAttempt)) {
            near = await fetchLogPage(task, stream, answeredAttempt, pageQuery(focusPage), ctl.signal);
          }
          storeRef.current.add(near.data, { page: focusPage });
        }
        totalRef.current = total;
        setState({ status: "ready", error: null, total, complete: page.complete, win: initialWindow(total, focus) });
        setVersion((v) => v + 1);
      })
      .catch((error: unknown) => {
        if (!ctl.signal.aborted) setState((s) => ({ ...s, status: "error", error }));
      });
    return () => ctl.abort();
    // `focus` only matters when opening; later line selections must not reload the log.
  }, [key]);

  const onRange = useCallback((first: number, last: number) => {
    const store = storeRef.current;
    const total = totalRef.current;
    for (const p of store.missingPages(first, last, total)) {
      if (inflight.current.has(p)) continue;
      inflight.current.add(p);
      fetchLogPage(task, stream, attemptRef.current, pageQuery(p))
        .then((page) => {
          store.add(page.data, { page: p });
          store.evict(Math.floor((first + last) / 2));
          setVersion((v) => v + 1);
        })
        .catch(() => undefined)
        .finally(() => inflight.current.delete(p));
    }
    setState((s) => {
      const moved = slideWindow(s.win, s.total, first, last);
      return moved ? { ...s, win: moved } : s;
    });
  }, [key]);

  // Follow-tail: lines are pushed by the server while the attempt is still being written.
  const live = state.status === "ready" && !state.complete;
  useLiveResource("log", live ? apiUrl(logPath(task, stream), { attempt }) : null, live ? followFrom.current : null, (event) => {
    const line: LogLine = event.data;
    storeRef.current.add([line]);
    const old = totalRef.current;
    if (line.line > old) {
      totalRef.current = line.line;
      setState((s) => ({ ...s, total: line.line, win: growWindow(s.win, old, line.line) }));
    }
    setVersion((v) => v + 1);
  });

  const jumpTo = useCallback((line: number) => {
    setState((s) => ({ ...s, win: initialWindow(s.total, Math.min(line, s.total)) }));
  }, []);

  return {
    ...state,
    attempt,
    jumpTo,
    get: (n) => storeRef.current.get(n),
    onRange,
    version,
    store: storeRef.current,
  };
}
