// Log pages (from_line/limit or tail) of one task attempt's stdout or stderr.
import { apiUrl, getJson } from "./client";
import type { LogPage } from "./types";
import { logPageUrl, logPath, type Stream, type TaskRef } from "./paths";

export { logPath, type Stream };

export function fetchLogPage(t: TaskRef, stream: Stream, attempt: number | null,
  q: { from_line?: number; limit?: number; tail?: number }, signal?: AbortSignal): Promise<LogPage> {
  return getJson<LogPage>(logPageUrl(t, stream, attempt, q), signal);
}

export function logDownloadUrl(t: TaskRef, stream: Stream, attempt: number | null): string {
  return apiUrl(`${logPath(t, stream)}/download`, { attempt });
}
