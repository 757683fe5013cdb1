// Run-wide log search. The server streams results as it finds them (NDJSON, then a summary line);
// they are read incrementally so the first hits show before the search ends.
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

/** The summary line the server ends a search with. */
export interface SearchDone {
  matches: number;
  truncated: boolean;
  reason: string | null;
}

function doneOf(value: unknown): SearchDone | null {
  const v = value as { type?: string } | null;
  return v && v.type === "done" ? (v as unknown as SearchDone) : null;
}

export async function searchRunLogs(flow: string, run: string, query: SearchQuery, onHits: (hits: SearchHit[]) => void,
  signal: AbortSignal): Promise<SearchDone | null> {
  let summary: SearchDone | null = null;
  const url = apiUrl(`${runPath(flow, run)}/search`, {
    q: query.q, regex: query.regex ? "true" : null, ignore_case: "true", step: query.step, task: query.task, stream: query.stream, attempt: query.attempt,
  });
  const res = await fetch(url, { signal, headers: { Accept: "application/x-ndjson, application/json" } });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new ApiError(res.status, body?.error?.message ?? `search failed (${res.status})`);
  }
  if (!res.body) return null;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = decoder.decode(value, { stream: true });
    buffer += chunk;
    const parts = buffer.split("\n");
    buffer = parts.pop() ?? "";
    const hits = parts.flatMap((p) => {
      try {
        const value: unknown = p.trim() ? JSON.parse(p) : null;
        summary = doneOf(value) ?? summary;
        return hitsOf(value);
      } catch {
        return [];
      }
    });
    if (hits.length) onHits(hits);
  }
  if (buffer.trim()) {
    try {
      const value: unknown = JSON.parse(buffer);
      summary = doneOf(value) ?? summary;
      onHits(hitsOf(value));
    } catch {
      // A torn last line (the connection dropped): the hits before it were already shown.
    }
  }
  return summary;
}
