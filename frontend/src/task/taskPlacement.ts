// Where a task's attempts ran and the notices recorded on it, read from its metadata rows
// (type "executor": executor, host, node-id, node-resources per attempt; type "notice").

import type { MetadataEntry } from "../api/types";

export interface Placement {
  executor: string | null;
  host: string | null;
  nodeId: string | null;
  resources: Record<string, number>;
}

/** The placement of one attempt (the newest rows win if a field was written twice). */
export function placementOf(entries: MetadataEntry[], attempt: number): Placement | null {
  const rows = entries.filter((e) => e.type === "executor" && e.attempt === attempt);
  if (rows.length === 0) return null;
  const field = (name: string) => rows.filter((r) => r.field_name === name).map((r) => r.value).pop() ?? null;
  let resources: Record<string, number> = {};
  const raw = field("node-resources");
  if (raw) {
    try {
      resources = JSON.parse(raw) as Record<string, number>;
    } catch {
      resources = {};
    }
  }
  return { executor: field("executor"), host: field("host"), nodeId: field("node-id"), resources };
}

/** "CPU 2 · memory 256 MB · GPU 1": Ray's assigned resources, memory in MB. */
export function resourcesText(resources: Record<string, number>): string {
  return Object.entries(resources)
    .filter(([k]) => !k.startsWith("node:"))
    .map(([k, v]) => (k === "memory" ? `memory ${Math.round(v / 1048576)} MB` : `${k} ${v}`))
    .join(" · ");
}

export function noticesOf(entries: MetadataEntry[]): string[] {
  return entries.filter((e) => e.type === "notice").map((e) => e.value);
}
