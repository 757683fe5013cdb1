// Run-wide log search. The server streams results as it finds them (NDJSON, then a summary line);
// they are read incrementally so the first hits show before the search ends.
import { apiUrl, ApiError } from "./client";
import { runPath } from "./runDetail";
import type { SearchDone, SearchHit, SearchLine } from "./types";

export interface SearchQuery {
  q: string;
  regex?: boolean;
  step?: string | null;
  task?: string | null;
  stream?: string | null;
  attempt?: number | null;
}

/** One line of the NDJSON answer: a match, or the summary that ends the search. */
function parseLine(text: string): SearchLine | null {
  if (!text.trim()) return null;
  const value = JSON.parse(text) as SearchLine;
  return value.type === "match" || value.type === "done" ? value : null;
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
    const hits: SearchHit[] = [];
    for (const p of parts) {
      let line: SearchLine | null;
      try {
        line = parseLine(p);
      } catch {
        continue;   // not JSON: skip the line, keep reading
      }
      if (line?.type === "match") hits.push(line);
      else if (line?.type === "done") summary = line;
    }
    if (hits.length) onHits(hits);
  }
  try {
    const last = parseLine(buffer);
    if (last?.type === "match") onHits([last]);
    else if (last?.type === "done") summary = last;
  } catch {
    // A torn last line (the connection dropped): the hits before it were already shown.
  }
  return summary;
}
