// The card document: Metaflow's card JSON (a tree of components, as its `render()` methods and
// its default/blank card templates produce it), which core_runtime writes too. One renderer
// draws both; unknown component types are shown as such, never dropped silently.

export type Cell = string | number | boolean | null | Component | Cell[] | Record<string, unknown>;

export interface Component {
  type: string;
  id?: string;
  [field: string]: unknown;
}

export interface CardDoc {
  metadata?: Record<string, unknown>;
  components: Component[];
}

/** What a card page embeds and what the parent posts: the document plus where it is in its life. */
export interface CardState {
  doc: CardDoc;
  /** Metaflow's reload token of the page ("final" once the task ended); component updates carrying another token need a reload. */
  reload_token?: string | null;
  /** Increases with every update of one card; a state older than the one shown is ignored. */
  seq?: number | null;
  final?: boolean;
  /** When the task produced this state (epoch ms): the start of the update-latency measurement. */
  updated_at?: number | null;
}

export function isComponent(v: unknown): v is Component {
  return typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as Component).type === "string";
}

export function children(c: Component): Component[] {
  const contents = c.contents;
  return Array.isArray(contents) ? contents.filter(isComponent) : [];
}

/** True when any component (tables and sections included) is a chart: the page then needs the chart bundle. */
export function hasCharts(doc: CardDoc): boolean {
  const walk = (v: unknown): boolean => {
    if (Array.isArray(v)) return v.some(walk);
    if (!isComponent(v)) return false;
    if (v.type === "vegaChart") return true;
    return walk(v.contents) || (v.type === "table" && walk(v.data));
  };
  return walk(doc.components);
}

/**
 * Metaflow's data updates: `{component_id: component}` replaces the components with those ids
 * wherever they are in the tree (tables included). Returns a new document; the input is not changed.
 */
export function applyComponentUpdates(doc: CardDoc, updates: Record<string, unknown>): CardDoc {
  const byId = new Map<string, Component>();
  for (const u of Object.values(updates)) if (isComponent(u) && u.id) byId.set(u.id, u);
  const patch = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(patch);
    if (!isComponent(v)) return v;
    const repl = v.id !== undefined ? byId.get(v.id) : undefined;
    if (repl) return { ...v, ...repl };
    const out: Component = { ...v };
    if (Array.isArray(v.contents)) out.contents = v.contents.map(patch);
    if (v.type === "table" && Array.isArray(v.data)) out.data = v.data.map(patch);
    return out;
  };
  return { ...doc, components: doc.components.map((c) => patch(c) as Component) };
}
