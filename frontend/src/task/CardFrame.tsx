// One card in a sandboxed frame that follows the card while its task refreshes it: each newer
// version (a websocket event moves `card.updated_at`) is fetched once and posted into the frame,
// which redraws in place — no reload, so the scroll position stays. A frame that cannot apply an
// update (Metaflow re-rendered the page, or a chart needs the chart bundle) is reloaded at the
// same scroll position. What the card could not draw, or what its sandbox blocked, is listed above it.
import { useEffect, useRef, useState } from "react";
import { getJson } from "../api/client";
import type { Card } from "../api/types";
import type { CardState } from "../cardview/doc";
import { fromFrame, type ParentMessage, SOURCE } from "../cardview/protocol";

type Theme = "light" | "dark";

/** `/cards/{id}/data` (schema CardData): a whole card state (Flowscope runs) or Metaflow's component updates. */
type CardData =
  | { kind: "state"; state: CardState; final: boolean }
  | { kind: "components"; reload_token: string | null; data: Record<string, unknown>; updated_at: number | null; final: boolean }
  | { kind: "none"; final: boolean };

function currentTheme(): Theme {
  return document.documentElement.dataset.theme === "dark" ? "dark" : "light";
}

/** The app's theme, following the toggle (it sets data-theme on <html>). */
function useAppTheme(): Theme {
  const [theme, setTheme] = useState<Theme>(currentTheme);
  useEffect(() => {
    const obs = new MutationObserver(() => setTheme(currentTheme()));
    obs.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    return () => obs.disconnect();
  }, []);
  return theme;
}

export interface CardRender { card: string; seq: number | null; updated_at: number | null; painted_at: number }

declare global {
  interface Window {
    /** Every card update drawn on screen (the browser tests and bench/cards.py read it). */
    __flowscopeCardRenders?: CardRender[];
  }
}

export function CardFrame({ card, src }: { card: Card; src: string }) {
  const frame = useRef<HTMLIFrameElement>(null);
  const theme = useAppTheme();
  const themeRef = useRef(theme);
  themeRef.current = theme;
  const [reloads, setReloads] = useState(0);
  const [problems, setProblems] = useState<string[]>([]);
  const scroll = useRef(0);
  const ready = useRef(false);
  const shown = useRef<number>(-1);        // the updated_at of the newest version posted
  const asked = useRef(0);
  const loadedFinal = useRef(!!card.final);   // the page in the frame was loaded after the card was final
  const reload = () => {
    ready.current = false;
    shown.current = -1;
    loadedFinal.current = !!card.final;
    setReloads((r) => r + 1);
  };

  const post = (msg: ParentMessage) =>
    frame.current?.contentWindow?.postMessage({ source: SOURCE, ...msg }, "*");

  // Fetch the newest version and post it into the frame (answers older than the last ask are dropped).
  const sync = () => {
    if (!ready.current || !card.data_url) return;
    const want = card.updated_at ?? 0;
    if (want <= shown.current) return;
    const n = ++asked.current;
    getJson<{ data: CardData }>(card.data_url).then(({ data }) => {
      if (n !== asked.current) return;
      shown.current = want;
      if (data.kind === "state") post({ type: "state", state: data.state as CardState });
      else if (data.kind === "components") post({ type: "components", reload_token: data.reload_token, data: data.data, final: data.final, updated_at: data.updated_at });
      // No update to apply but the card was re-rendered (Metaflow's final render): load the new page.
      else if (data.final && !loadedFinal.current) reload();
    }).catch((err: unknown) => setProblems((p) => [...p, `update not loaded: ${err instanceof Error ? err.message : String(err)}`]));
  };
  const syncRef = useRef(sync);
  syncRef.current = sync;
  const reloadRef = useRef(reload);
  reloadRef.current = reload;

  useEffect(() => {
    const onMessage = (event: MessageEvent) => {
      if (!frame.current || event.source !== frame.current.contentWindow) return;
      const msg = fromFrame(event.data);
      if (!msg) return;
      if (msg.type === "ready") {
        ready.current = true;
        post({ type: "theme", theme: themeRef.current });
        if (scroll.current) post({ type: "scroll", y: scroll.current });
        syncRef.current();
      } else if (msg.type === "scrolled") {
        scroll.current = msg.y;
      } else if (msg.type === "reload") {
        reloadRef.current();
      } else if (msg.type === "problem") {
        setProblems((p) => (p.includes(msg.message) ? p : [...p, msg.message].slice(-5)));
      } else if (msg.type === "rendered") {
        (window.__flowscopeCardRenders ??= []).push({ card: card.card_id, seq: msg.seq, updated_at: msg.updated_at, painted_at: msg.painted_at });
        if (window.__flowscopeCardRenders.length > 1000) window.__flowscopeCardRenders.splice(0, 500);
        frame.current.dataset.renderedSeq = String(msg.seq ?? "");
      }
    };
    window.addEventListener("message", onMessage);
    return () => window.removeEventListener("message", onMessage);
  }, [card.card_id]);

  useEffect(() => { if (ready.current) post({ type: "theme", theme }); }, [theme]);
  useEffect(() => { sync(); }, [card.updated_at, card.data_url]);

  // A page loaded before the card's latest version is caught up by `sync` once the frame is ready;
  // a reload asks for a fresh page (the first one may have been cached without a chart bundle).
  const url = `${src}${reloads ? `${src.includes("?") ? "&" : "?"}reload=${reloads}` : ""}#theme=${theme}`;
  const [frameUrl, setFrameUrl] = useState(url);
  useEffect(() => { ready.current = false; shown.current = -1; setFrameUrl(url); }, [src, reloads]);

  return (
    <>
      {problems.length > 0 && (
        <div className="card-problems" role="status" data-testid="card-problems">
          {problems.map((p) => <div key={p}>{p}</div>)}
        </div>
      )}
      {!card.final && <div className="card-live muted" data-testid="card-live">● live — updates as the task refreshes this card</div>}
      {/* User HTML: a sandbox without allow-same-origin cannot read the app's cookies, storage or DOM. */}
      <iframe ref={frame} key={frameUrl} className="card-frame" title={`card ${card.card_id}`} sandbox="allow-scripts"
        data-testid="card-frame" src={frameUrl} style={{ flex: 1 }} />
    </>
  );
}
