// The @pypi/@conda environment a task ran in, from its metadata (field "environment", written by
// core_runtime when the run starts the task); null for a task that ran on the runtime's own Python.

import type { MetadataEntry } from "../api/types";

export function environmentOf(entries: MetadataEntry[]): string | null {
  return entries.filter((e) => e.field_name === "environment" && e.type === "environment").map((e) => e.value).pop() ?? null;
}
