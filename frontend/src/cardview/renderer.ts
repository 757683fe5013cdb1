// The card page's script: draws the embedded card state, then follows what the parent posts
// (newer states, Metaflow component updates, the theme, a scroll position to restore) and tells
// the parent when an update is on screen. Standalone (a card file opened from the datastore) it
// draws the embedded state in the system's theme and stops there.
import css from "./card.css?inline";
import { applyComponentUpdates, type CardState, hasCharts } from "./doc";
import { type FrameMessage, SOURCE, toFrame } from "./protocol";
import { type Charts, CardRenderer, type Theme } from "./render";

const win = window as unknown as { FlowscopeCharts?: Charts };
const embedded = !!window.parent && window.parent !== window;

function post(msg: FrameMessage): void {
  if (embedded) window.parent.postMessage({ source: SOURCE, ...msg }, "*");
}

function readState(): CardState {
  const node = document.getElementById("fs-card-state");
  const state = JSON.parse(node?.textContent || "null") as CardState | null;
  if (!state || !Array.isArray(state.doc?.components)) throw new Error("the card page holds no card document");
  return state;
}

function initialTheme(): Theme {
  const asked = /(?:^#|&)theme=(light|dark)\b/.exec(location.hash)?.[1];
  if (asked === "light" || asked === "dark") return asked;
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function showProblem(message: string): void {
  let box = document.getElementById("fs-card-problems");
  if (!box) {
    box = document.createElement("div");
    box.id = "fs-card-problems";
    box.className = "card-problems";
    document.body.prepend(box);
  }
  const line = document.createElement("div");
  line.textContent = message;
  box.append(line);
  post({ type: "problem", message });
}

function start(): void {
  const style = document.createElement("style");
  style.textContent = css;
  document.head.append(style);
  let theme = initialTheme();
  document.documentElement.dataset.theme = theme;
  // Anything the page is refused (a script, a font, an image from the network) is named, not silent.
  document.addEventListener("securitypolicyviolation", (e) => {
    showProblem(`blocked by the card's security policy: ${e.effectiveDirective} ${e.blockedURI || "(inline)"}`);
  });

  let state = readState();
  let reloadAsked = false;
  const root = document.getElementById("fs-card") ?? document.body.appendChild(document.createElement("div"));
  const renderer = new CardRenderer(root, {
    charts: () => win.FlowscopeCharts,
    theme: () => theme,
    problem: (m) => post({ type: "problem", message: m }),
    needCharts: () => {
      if (!reloadAsked) post({ type: "reload", reason: "a chart was added; the page needs the chart bundle" });
      reloadAsked = true;
    },
  });
  const draw = (s: CardState): void => {
    state = s;
    document.documentElement.dataset.final = s.final ? "true" : "false";
    renderer.render(s.doc).then(() => {
      requestAnimationFrame(() => post({ type: "rendered", seq: s.seq ?? null, updated_at: s.updated_at ?? null, painted_at: Date.now() }));
    }, (err: unknown) => showProblem(`card not drawn: ${String(err)}`));
  };

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent) return;
    const msg = toFrame(event.data);
    if (!msg) return;
    if (msg.type === "theme") {
      if (msg.theme !== theme) {
        theme = msg.theme;
        document.documentElement.dataset.theme = theme;
        void renderer.retheme();
      }
    } else if (msg.type === "scroll") {
      window.scrollTo(0, msg.y);
    } else if (msg.type === "state") {
      if ((msg.state.seq ?? 0) >= (state.seq ?? 0)) draw(msg.state);
    } else if (msg.type === "components") {
      // Metaflow's data update: it applies to the page it was made for (same reload token).
      if ((state.reload_token ?? null) !== (msg.reload_token ?? null)) {
        if (!reloadAsked) post({ type: "reload", reason: `the card was re-rendered (reload token ${msg.reload_token})` });
        reloadAsked = true;
        return;
      }
      draw({ ...state, doc: applyComponentUpdates(state.doc, msg.data), seq: msg.seq ?? state.seq, final: msg.final ?? state.final, updated_at: msg.updated_at ?? state.updated_at });
    }
  });
  let scrollTimer: number | undefined;
  window.addEventListener("scroll", () => {
    window.clearTimeout(scrollTimer);
    scrollTimer = window.setTimeout(() => post({ type: "scrolled", y: Math.round(window.scrollY) }), 100);
  });
  draw(state);
  post({ type: "ready", seq: state.seq ?? null, reload_token: state.reload_token ?? null, charts: !!win.FlowscopeCharts || !hasCharts(state.doc) });
}

try {
  start();
} catch (err) {
  showProblem(`card not drawn: ${err instanceof Error ? err.message : String(err)}`);
}
