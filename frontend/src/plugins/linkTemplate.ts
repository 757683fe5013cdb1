// Link plugins: URL templates such as https://logs/?c={task.metadata.container_id}, filled from
// the page's pathspec, run/task fields and task metadata. Every value is URL-encoded, so a value
// can never add a path segment, a query parameter or change the scheme. A template with a value
// that the page does not have is not turned into a half-filled URL: the caller shows it disabled.
import type { SlotContext } from "./types";

export type Filled = { url: string; missing: [] } | { url: null; missing: string[] };

const PLACEHOLDER = /\{([^{}]*)\}/g;

function scalar(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v === "" ? null : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

/** The value a placeholder names in this context, or null if the page has none. */
export function placeholderValue(name: string, ctx: SlotContext): string | null {
  const { run, task } = ctx;
  switch (name) {
    case "flow": return scalar(task?.flow_id ?? run?.flow_id);
    case "run": return scalar(task?.run_id ?? run?.run_id);
    case "step": return scalar(task?.step_name);
    case "task": return scalar(task?.task_id);
    case "pathspec": return scalar(task?.pathspec ?? run?.pathspec);
  }
  if (name.startsWith("task.metadata.")) {
    const field = name.slice("task.metadata.".length);
    // Latest attempt's value wins: entries come oldest first.
    const hits = (ctx.metadata ?? []).filter((m) => m.field_name === field);
    return hits.length ? scalar(hits[hits.length - 1]!.value) : null;
  }
  if (name.startsWith("run.parameters.")) {
    return scalar(run?.parameters?.[name.slice("run.parameters.".length)]);
  }
  const [scope, field, ...rest] = name.split(".");
  if (rest.length || !field) return null;
  const source = scope === "run" ? run : scope === "task" ? task : null;
  return source ? scalar((source as unknown as Record<string, unknown>)[field]) : null;
}

export function usesMetadata(template: string): boolean {
  return template.includes("{task.metadata.");
}

export function fillTemplate(template: string, ctx: SlotContext): Filled {
  const missing: string[] = [];
  const url = template.replace(PLACEHOLDER, (_, name: string) => {
    const value = placeholderValue(name, ctx);
    if (value === null) {
      missing.push(name);
      return "";
    }
    return encodeURIComponent(value);
  });
  if (missing.length) return { url: null, missing };
  // The manifest schema only allows http(s) templates; check again so nothing else is ever a link.
  return /^https?:\/\//i.test(url) ? { url, missing: [] } : { url: null, missing: ["(not an http(s) URL)"] };
}
