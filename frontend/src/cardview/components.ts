// One DOM builder per component type of the card document. Every piece of card data is put in
// with textContent (or the safe Markdown renderer); only data: URIs of images are used as URLs.
import { type Component, isComponent } from "./doc";
import { escapeHtml, markdownToHtml } from "./markdown";

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const str = (v: unknown): string => (v === null || v === undefined ? "" : typeof v === "string" ? v : String(v));
const SAFE_IMAGE = /^data:image\/(png|jpe?g|gif|webp|bmp);base64,/i;
const CSS_CLASS = /^[a-zA-Z][a-zA-Z0-9_-]*$/;

/** How nested components (table cells, section contents) are drawn: by the keyed renderer. */
export type Nested = (c: Component, path: string) => HTMLElement;

export function cellNode(v: unknown, path: string, nested: Nested): Node {
  if (isComponent(v)) return nested(v, path);
  if (Array.isArray(v)) {
    const wrap = el("div", "cell-list");
    v.forEach((x, i) => wrap.append(cellNode(x, `${path}.${i}`, nested)));
    return wrap;
  }
  if (typeof v === "object" && v !== null) return el("code", "cell-object", JSON.stringify(v));
  return document.createTextNode(str(v));
}

function table(c: Component, path: string, nested: Nested): HTMLElement {
  const t = el("table", "card-table");
  const columns = Array.isArray(c.columns) ? c.columns.map(str) : [];
  const rows = Array.isArray(c.data) ? c.data.filter(Array.isArray) as unknown[][] : [];
  if (c.vertical) {
    // Metaflow's vertical table: one row per column name, the values beside it.
    const body = t.createTBody();
    columns.forEach((name, ci) => {
      const tr = body.insertRow();
      tr.append(el("th", undefined, name));
      rows.forEach((row, ri) => { const td = tr.insertCell(); td.append(cellNode(row[ci], `${path}.${ri}.${ci}`, nested)); });
    });
    return t;
  }
  if (columns.length) {
    const tr = t.createTHead().insertRow();
    for (const name of columns) tr.append(el("th", undefined, name));
  }
  const body = t.createTBody();
  rows.forEach((row, ri) => {
    const tr = body.insertRow();
    row.forEach((cell, ci) => { const td = tr.insertCell(); td.append(cellNode(cell, `${path}.${ri}.${ci}`, nested)); });
  });
  const wrap = el("div", "table-wrap");
  wrap.append(t);
  return wrap;
}

function artifacts(c: Component): HTMLElement {
  const items = Array.isArray(c.data) ? c.data : [];
  const wrap = el("div", "artifacts");
  for (const a of items) {
    const item = (a ?? {}) as Record<string, unknown>;
    const row = el("div", "artifact");
    if (item.name) row.append(el("span", "artifact-name", str(item.name)));
    row.append(el("span", "artifact-type", str(item.type)));
    row.append(el("pre", "artifact-data", str(item.data)));
    wrap.append(row);
  }
  return wrap;
}

function image(c: Component): HTMLElement {
  const fig = el("figure", "card-image");
  const src = str(c.src).replace(/^(data:image\/[a-z]+;base64,)\s+/i, "$1");
  if (SAFE_IMAGE.test(src)) {
    const img = el("img");
    img.src = src;
    img.alt = str(c.label) || "image";
    fig.append(img);
  } else {
    fig.append(el("div", "card-problem", "image not shown: only embedded PNG/JPEG/GIF/WebP data can be shown in a card"));
  }
  if (c.label) fig.append(el("figcaption", undefined, str(c.label)));
  return fig;
}

export function progressBar(c: Component): HTMLElement {
  const wrap = el("div", "progress");
  wrap.setAttribute("role", "progressbar");
  const head = el("div", "progress-head");
  head.append(el("span", "progress-label"), el("span", "progress-value"));
  const bar = el("div", "progress-bar");
  bar.append(el("div", "progress-fill"));
  wrap.append(head, bar, el("div", "progress-details"));
  updateProgress(wrap, c);
  return wrap;
}

export function updateProgress(wrap: HTMLElement, c: Component): void {
  const max = Number(c.max) > 0 ? Number(c.max) : 100;
  const value = Number(c.value) || 0;
  const pct = Math.max(0, Math.min(100, (100 * value) / max));
  wrap.setAttribute("aria-valuemin", "0");
  wrap.setAttribute("aria-valuemax", String(max));
  wrap.setAttribute("aria-valuenow", String(value));
  wrap.dataset.percent = pct.toFixed(1);
  (wrap.querySelector(".progress-fill") as HTMLElement).style.width = `${pct}%`;
  wrap.querySelector(".progress-label")!.textContent = str(c.label);
  wrap.querySelector(".progress-value")!.textContent = `${value} / ${max}${c.unit ? ` ${str(c.unit)}` : ""} (${Math.round(pct)} %)`;
  wrap.querySelector(".progress-details")!.textContent = str(c.details);
}

function valueBox(c: Component): HTMLElement {
  const theme = str(c.theme);
  const box = el("div", `value-box${CSS_CLASS.test(theme) ? ` vb-${theme}` : ""}`);
  if (c.title) box.append(el("div", "vb-title", str(c.title)));
  box.append(el("div", "vb-value", str(c.value)));
  if (c.subtitle) box.append(el("div", "vb-subtitle", str(c.subtitle)));
  if (c.change_indicator) box.append(el("div", "vb-change", str(c.change_indicator)));
  return box;
}

function dag(c: Component): HTMLElement {
  // A compact text DAG: each step with the steps it leads to (the app's run page draws the real one).
  const data = (c.data ?? {}) as { steps?: Record<string, { next?: string[]; type?: string }>; start_step?: string };
  const steps = data.steps ?? {};
  const order: string[] = [];
  const queue = [data.start_step ?? "start"];
  while (queue.length) {
    const s = queue.shift()!;
    if (order.includes(s) || !steps[s]) continue;
    order.push(s);
    queue.push(...(steps[s]!.next ?? []));
  }
  for (const s of Object.keys(steps)) if (!order.includes(s)) order.push(s);
  const list = el("ol", "dag");
  for (const s of order) {
    const li = el("li");
    li.append(el("code", undefined, s));
    const next = steps[s]!.next ?? [];
    if (next.length) li.append(el("span", "dag-next", ` → ${next.join(", ")}`));
    if (steps[s]!.type) li.append(el("span", "dag-type", ` (${steps[s]!.type})`));
    list.append(li);
  }
  return list;
}

function sanitizedHtml(source: string): HTMLElement {
  // Metaflow's `html` component: parsed inertly, then only text-level markup survives.
  const wrap = el("div", "card-html");
  const doc = new DOMParser().parseFromString(source, "text/html");
  const ALLOWED = new Set(["P", "DIV", "SPAN", "B", "STRONG", "I", "EM", "U", "CODE", "PRE", "UL", "OL", "LI", "TABLE", "THEAD", "TBODY", "TR", "TH", "TD", "H1", "H2", "H3", "H4", "H5", "H6", "BR", "HR", "SMALL", "SUB", "SUP", "BLOCKQUOTE"]);
  const copy = (from: Node, to: Node): void => {
    for (const n of Array.from(from.childNodes)) {
      if (n.nodeType === Node.TEXT_NODE) to.appendChild(document.createTextNode(n.textContent ?? ""));
      else if (n instanceof Element && ALLOWED.has(n.tagName)) copy(n, to.appendChild(document.createElement(n.tagName.toLowerCase())));
      else if (n instanceof Element && !["SCRIPT", "STYLE", "IFRAME", "OBJECT", "EMBED", "TEMPLATE"].includes(n.tagName)) copy(n, to);
    }
  };
  copy(doc.body, wrap);
  return wrap;
}

function events(c: Component, path: string, nested: Nested): HTMLElement {
  const wrap = el("div", "events");
  if (c.title) wrap.append(el("h4", undefined, str(c.title)));
  const list = Array.isArray(c.events) ? c.events : [];
  list.forEach((e, i) => {
    const ev = (e ?? {}) as { metadata?: Record<string, unknown>; payloads?: Record<string, unknown>; style_theme?: string };
    const item = el("div", `event${ev.style_theme && CSS_CLASS.test(ev.style_theme) ? ` ev-${ev.style_theme}` : ""}`);
    const meta = el("dl");
    for (const [k, v] of Object.entries(ev.metadata ?? {})) meta.append(el("dt", undefined, k), el("dd", undefined, typeof v === "object" ? JSON.stringify(v) : str(v)));
    item.append(meta);
    for (const [k, p] of Object.entries(ev.payloads ?? {})) {
      const d = el("details");
      d.append(el("summary", undefined, k), cellNode(p, `${path}.${i}.${k}`, nested));
      item.append(d);
    }
    wrap.append(item);
  });
  return wrap;
}

/** Builds a leaf component (containers and charts are the keyed renderer's). */
export function leaf(c: Component, path: string, nested: Nested): HTMLElement {
  switch (c.type) {
    case "title": return el("h1", "card-title", str(c.text));
    case "subtitle": return el("p", "card-subtitle", str(c.text));
    case "text": return el("p", "card-text", str(c.text));
    case "heading": {
      const h = el("div", "card-heading");
      if (c.title) h.append(el("h2", undefined, str(c.title)));
      if (c.subtitle) h.append(el("p", "card-subtitle", str(c.subtitle)));
      return h;
    }
    case "markdown": {
      const d = el("div", "markdown");
      d.innerHTML = markdownToHtml(str(c.source));
      return d;
    }
    case "table": return table(c, path, nested);
    case "artifacts": return artifacts(c);
    case "image": return image(c);
    case "log": return el("pre", "card-log", str(c.data));
    case "pythonCode": return el("pre", "card-code", str(c.data));
    case "progressBar": return progressBar(c);
    case "valueBox": return valueBox(c);
    case "dag": return dag(c);
    case "html": return sanitizedHtml(str(c.data));
    case "jsonViewer": return el("pre", "card-code", str(c.json_string));
    case "yamlViewer": return el("pre", "card-code", str(c.yaml_string));
    case "eventsTimeline": return events(c, path, nested);
    default: {
      const d = el("div", "card-problem");
      d.innerHTML = `this card has a component of type <code>${escapeHtml(c.type)}</code>, which Flowscope cannot show`;
      return d;
    }
  }
}
