// The one way the UI talks to the REST API: typed JSON GETs whose errors carry the server's message.
import { noteServerDate } from "../live/serverClock";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type QueryValue = string | number | boolean | null | undefined | readonly string[];

/** Builds `/api/...?...`, dropping empty values and repeating array values (status=a&status=b). */
export function apiUrl(path: string, query: Record<string, QueryValue> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === "") continue;
    if (Array.isArray(value)) {
      for (const v of value) params.append(key, v);
    } else {
      params.set(key, String(value));
    }
  }
  const qs = params.toString();
  return `/api${path}${qs ? `?${qs}` : ""}`;
}

/** Path segment encoding for names that come from user data (flow, step, tag). */
export const seg = (s: string): string => encodeURIComponent(s);

// ---- early requests ----
// src/early.ts starts the first requests of a deep link (the run, the task, the log's tail) while
// the main bundle is still downloading and evaluating; getJson takes such a response instead of
// asking again. Each is used once, and only while fresh.

interface Early {
  at: number;
  response: Promise<Response>;
}

const EARLY_KEY = "__flowscopeEarly";
export const EARLY_MAX_AGE_MS = 10_000;
const HEADERS = { Accept: "application/json" };

function earlyStore(): Map<string, Early> {
  const g = globalThis as unknown as Record<string, Map<string, Early> | undefined>;
  return (g[EARLY_KEY] ??= new Map());
}

/** Starts GETs of these API URLs now, for getJson to take later. */
export function startEarly(urls: readonly string[], now = Date.now(), get: (url: string) => Promise<Response> = (u) => fetch(u, { headers: HEADERS })): void {
  const store = earlyStore();
  for (const url of urls) {
    const response = get(url);
    response.catch(() => undefined); // an unused early request that failed is not an unhandled rejection
    store.set(url, { at: now, response });
  }
}

/** The early response for `url`, once; undefined when there is none or it is older than EARLY_MAX_AGE_MS. */
export function takeEarly(url: string, now = Date.now()): Promise<Response> | undefined {
  const store = earlyStore();
  const e = store.get(url);
  if (!e) return undefined;
  store.delete(url);
  return now - e.at <= EARLY_MAX_AGE_MS ? e.response : undefined;
}

export async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    const early = takeEarly(url);
    response = await (early ?? fetch(url, { signal, headers: HEADERS }));
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, "cannot reach the Flowscope server");
  }
  noteServerDate(response.headers.get("Date"));
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message =
      (body as { error?: { message?: string } } | null)?.error?.message ??
      `${response.status} ${response.statusText || "error"}`;
    throw new ApiError(response.status, message);
  }
  if (body === null) throw new ApiError(response.status, `invalid JSON from ${url}`);
  return body as T;
}
