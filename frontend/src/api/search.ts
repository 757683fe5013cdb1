// Run-wide log search. The server streams results as it finds them (NDJSON), or answers one JSON
// list; both are read incrementally so the first hits show before the search ends.
import { apiUrl, ApiError } from "./client";
import { runPath } from "./runDetail";
import type { SearchHit } from "./types";

export interface SearchQuery {
  q: string;
  regex?: boolean;
  step?: string | null;
  task?: string | null;
  stream?: string | null;
  attempt?: number | null;
}

function hitsOf(value: unknown): SearchHit[] {
  if (Array.isArray(value)) return value as SearchHit[];
  const v = value as { data?: unknown; type?: string } | null;
  if (v && Array.isArray(v.data)) return v.data as SearchHit[];
  if (v && typeof v === "object" && "line" in v && "task_id" in v) return [v as unknown as SearchHit];
  if (v && v.data && typeof v.data === "object" && "line" in (v.data as object)) return [v.data as SearchHit];
  return [];
}

export async function searchRunLogs(flow: string, run: string, query: SearchQuery, onHits: (hits: SearchHit[]) => void,
  signal: AbortSignal): Promise<void> {
  const url = apiUrl(`${runPath(flow, run)}/search`, {
    q: query.q, regex: query.regex ? "true" : null, ignore_case: "true", step: query.step, task: query.task, stream: query.stream, attempt: query.attempt,
  });
  const res = await fetch(url, { signal, headers: { Accept: "application/x-ndjson, application/json" } });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new ApiError(res.status, body?.error?.message ?? `search failed (${res.status})`);
  }
  if (!res.body) return;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let whole = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = decoder.decode(value, { stream: true });
    whole += chunk;
    buffer += chunk;
    const parts = buffer.split("\n");
    buffer = parts.pop() ?? "";
    const hits = parts.flatMap((p) => {
      try { return p.trim() ? hitsOf(JSON.parse(p)) : []; } catch { return []; }
    });
    if (hits.length) onHits(hits);
  }
  if (buffer.trim()) {
    try {
      onHits(hitsOf(JSON.parse(buffer)));
    } catch {
      // A single (non-NDJSON) JSON document split across lines.
      try { onHits(hitsOf(JSON.parse(whole))); } catch { /* not JSON: nothing to show */ }
    }
  }
}
