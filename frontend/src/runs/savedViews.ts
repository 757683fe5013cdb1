// Saved views: named run-list presets (filters, sort, grouping) kept in the browser. A view is
// the URL it already is (path + query), so sharing one is sharing its link.
const KEY = "flowscope.savedViews";

export interface SavedView {
  name: string;
  url: string;
}

export function loadViews(storage: Pick<Storage, "getItem"> = localStorage): SavedView[] {
  try {
    const v = JSON.parse(storage.getItem(KEY) ?? "[]") as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter((x): x is SavedView => typeof x === "object" && x !== null
      && typeof (x as SavedView).name === "string" && typeof (x as SavedView).url === "string");
  } catch {
    return [];
  }
}

/** The list with ``view`` added, replacing one of the same name; names are trimmed, never empty. */
export function withView(views: readonly SavedView[], name: string, url: string): SavedView[] {
  const clean = name.trim();
  if (!clean) return [...views];
  return [...views.filter((v) => v.name !== clean), { name: clean, url }].sort((a, b) => a.name.localeCompare(b.name));
}

export function saveViews(views: readonly SavedView[], storage: Pick<Storage, "setItem"> = localStorage): void {
  storage.setItem(KEY, JSON.stringify(views));
}
