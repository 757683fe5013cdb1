// The chart bundle of a card page (window.FlowscopeCharts): Vega-Lite and Vega specs drawn as
// SVG under a strict Content-Security-Policy. Vega compiles expressions with `new Function`
// unless told otherwise: specs are parsed to an AST (`ast: true`) and evaluated by
// vega-interpreter, so no 'unsafe-eval' is needed. Data is never loaded from a URL: a card
// may not reach the network.
import { parse, View, loader as vegaLoader, type Spec } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { expressionInterpreter } from "vega-interpreter";

type Theme = "light" | "dark";

const PALETTE: Record<Theme, { fg: string; muted: string; line: string; grid: string; mark: string }> = {
  light: { fg: "#1b1f27", muted: "#5f6877", line: "#c6cbd4", grid: "#e6e9ee", mark: "#3a66e0" },
  dark: { fg: "#e3e7ee", muted: "#9aa3b2", line: "#4a5263", grid: "#2a303c", mark: "#6d95ff" },
};

function config(theme: Theme): Record<string, unknown> {
  const p = PALETTE[theme];
  const axis = { labelColor: p.muted, titleColor: p.fg, domainColor: p.line, tickColor: p.line, gridColor: p.grid };
  return {
    background: null,
    title: { color: p.fg, subtitleColor: p.muted },
    style: { "guide-label": { fill: p.muted }, "guide-title": { fill: p.fg }, "group-title": { fill: p.fg } },
    axis, axisX: axis, axisY: axis,
    legend: { labelColor: p.muted, titleColor: p.fg },
    header: { labelColor: p.muted, titleColor: p.fg },
    view: { stroke: p.line },
    mark: { color: p.mark },
    range: { category: theme === "dark"
      ? ["#6d95ff", "#f0a84a", "#4fc98a", "#f0616a", "#b48cff", "#4dc7d6", "#e6c84f", "#ff8fc0"]
      : ["#3a66e0", "#e08a1e", "#1f9d63", "#d9363e", "#8a5cf0", "#1a9fb0", "#b89a00", "#d9539a"] },
  };
}

/** A loader that loads nothing; `refused` names what the chart asked for. Vega only logs a
 * failed load (and draws empty axes), so the caller turns a refusal into an error. */
function noNetwork(refused: string[]) {
  const l = vegaLoader();
  const refuse = (uri: unknown) => {
    const message = `a card chart cannot load ${String(uri)}: cards have no network access; put the data inline`;
    if (!refused.includes(message)) refused.push(message);
    return Promise.reject(new Error(message));
  };
  l.load = refuse as typeof l.load;
  l.sanitize = refuse as typeof l.sanitize;
  return l;
}

function isVegaLite(spec: Record<string, unknown>): boolean {
  const schema = typeof spec.$schema === "string" ? spec.$schema : "";
  if (schema) return schema.includes("vega-lite");
  // No $schema: Vega specs have marks/signals at the top level, Vega-Lite ones mark/layer/….
  return !("marks" in spec || "signals" in spec || "scales" in spec);
}

export async function render(target: HTMLElement, spec: unknown, theme: Theme): Promise<{ finalize(): void }> {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new Error("the chart spec is not an object");
  const raw = spec as Record<string, unknown>;
  const cfg = config(theme);
  const vgSpec = isVegaLite(raw) ? compile(raw as unknown as TopLevelSpec, { config: cfg }).spec : (raw as Spec);
  const runtime = parse(vgSpec as Spec, isVegaLite(raw) ? undefined : cfg, { ast: true });
  const refused: string[] = [];
  const view = new View(runtime, { expr: expressionInterpreter, renderer: "svg", container: target, hover: true, loader: noNetwork(refused) });
  await view.runAsync();
  // A chart without its data would be blank axes: say why instead.
  if (refused.length) {
    view.finalize();
    throw new Error(refused.join("; "));
  }
  return { finalize: () => view.finalize() };
}

(window as unknown as { FlowscopeCharts: unknown }).FlowscopeCharts = { render };
