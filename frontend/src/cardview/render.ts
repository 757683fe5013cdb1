// The keyed renderer: draws a card document and, on every later document, keeps the DOM of
// components that did not change, updates progress bars and charts in place, and only rebuilds
// what changed. Nothing is torn down wholesale, so the card's scroll position survives updates.
import { type CardDoc, type Component, children } from "./doc";
import { el, leaf, updateProgress } from "./components";

export type Theme = "light" | "dark";

export interface ChartHandle { finalize(): void }
/** The chart bundle's API (window.FlowscopeCharts); absent when the page has no charts bundle. */
export interface Charts { render(target: HTMLElement, spec: unknown, theme: Theme): Promise<ChartHandle> }

interface Entry {
  type: string;
  sig: string;
  el: HTMLElement;
  body?: HTMLElement;               // containers: where their contents go
  chart?: { spec: unknown; handle: ChartHandle | null; pending: Promise<void> };
}

export interface RenderHooks {
  charts: () => Charts | undefined;
  theme: () => Theme;
  /** A chart could not be drawn (no bundle, bad spec): the message says why. */
  problem: (message: string) => void;
  /** The page lacks the chart bundle a new chart needs. */
  needCharts: () => void;
}

const CONTAINERS = new Set(["page", "section"]);

export class CardRenderer {
  private prev = new Map<string, Entry>();
  private next = new Map<string, Entry>();
  private pending: Promise<void>[] = [];

  constructor(private readonly root: HTMLElement, private readonly hooks: RenderHooks) {}

  /** Draws `doc`; resolves when every chart it (re)drew is on screen. */
  render(doc: CardDoc): Promise<void> {
    this.next = new Map();
    this.pending = [];
    const nodes = doc.components.map((c, i) => this.node(c, `c${i}`));
    if (!nodes.length) nodes.push(el("p", "card-empty", "This card has no components yet."));
    this.root.replaceChildren(...nodes);
    for (const [key, e] of this.prev) if (!this.next.has(key)) e.chart?.handle?.finalize();
    this.prev = this.next;
    return Promise.all(this.pending).then(() => undefined);
  }

  /** Redraws every chart (after a theme change). */
  retheme(): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const e of this.prev.values()) if (e.chart) jobs.push(this.drawChart(e, e.chart.spec));
    return Promise.all(jobs).then(() => undefined);
  }

  private key(c: Component, path: string): string {
    const k = c.id ? `id:${c.id}` : `${path}:${c.type}`;
    return this.next.has(k) ? `${k}@${path}` : k;
  }

  private node = (c: Component, path: string): HTMLElement => {
    const key = this.key(c, path);
    const container = CONTAINERS.has(c.type);
    const sig = JSON.stringify(container ? { ...c, contents: null } : c);
    const old = this.prev.get(key);
    let entry: Entry;
    if (old && old.type === c.type && old.sig === sig) {
      entry = old;
    } else if (old && old.type === c.type && c.type === "progressBar") {
      updateProgress(old.el, c);
      entry = { ...old, sig };
    } else if (old && old.type === c.type && c.type === "vegaChart" && old.chart) {
      entry = { ...old, sig };
      this.pending.push(this.drawChart(entry, c.spec));
    } else {
      entry = this.create(c, path, sig);
    }
    if (container && entry.body) {
      const kids = children(c).map((k, i) => this.node(k, `${path}.${i}`));
      entry.body.replaceChildren(...kids);
    }
    this.next.set(key, entry);
    return entry.el;
  };

  private create(c: Component, path: string, sig: string): Entry {
    if (CONTAINERS.has(c.type)) {
      const box = el("section", c.type === "page" ? "card-page" : "card-section");
      const cols = Number(c.columns);
      const title = typeof c.title === "string" ? c.title : "";
      if (title) box.append(el(c.type === "page" ? "h2" : "h3", undefined, title));
      if (typeof c.subtitle === "string" && c.subtitle) box.append(el("p", "card-subtitle", c.subtitle));
      const body = el("div", "card-body");
      if (cols > 1) body.style.gridTemplateColumns = `repeat(${Math.min(cols, 6)}, minmax(0, 1fr))`;
      if (cols > 1) body.classList.add("columns");
      box.append(body);
      return { type: c.type, sig, el: box, body };
    }
    if (c.type === "vegaChart") {
      const box = el("div", "chart");
      const entry: Entry = { type: c.type, sig, el: box, chart: { spec: c.spec, handle: null, pending: Promise.resolve() } };
      this.pending.push(this.drawChart(entry, c.spec));
      return entry;
    }
    const node = leaf(c, path, this.node);
    node.classList.add("component");
    return { type: c.type, sig, el: node };
  }

  /** (Re)draws a chart into its box: the new view is drawn beside the old one, then replaces it,
   * and the box keeps its height meanwhile, so nothing below it moves. */
  private drawChart(entry: Entry, spec: unknown): Promise<void> {
    const chart = entry.chart!;
    chart.spec = spec;
    const charts = this.hooks.charts();
    if (!charts) {
      entry.el.replaceChildren(el("div", "card-problem", "This chart needs the chart bundle; reloading the card…"));
      this.hooks.needCharts();
      return Promise.resolve();
    }
    const box = entry.el;
    const run = chart.pending.then(async () => {
      const height = box.offsetHeight;
      if (height) box.style.minHeight = `${height}px`;
      const target = el("div", "chart-view");
      box.append(target);
      try {
        const handle = await charts.render(target, structuredClone(spec), this.hooks.theme());
        chart.handle?.finalize();
        chart.handle = handle;
        for (const child of Array.from(box.children)) if (child !== target) child.remove();
      } catch (err) {
        target.remove();
        const message = `chart not drawn: ${err instanceof Error ? err.message : String(err)}`;
        box.replaceChildren(el("div", "card-problem", message));
        chart.handle = null;
        this.hooks.problem(message);
      } finally {
        box.style.minHeight = "";
      }
    });
    chart.pending = run;
    return run;
  }
}
