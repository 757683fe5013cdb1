// Log pages (from_line/limit or tail) of one task attempt's stdout or stderr.
import { apiUrl, getJson } from "./client";
import type { LogPage } from "./types";
import { taskPath, type TaskRef } from "./task";

export type Stream = "stdout" | "stderr";

export const logPath = (t: TaskRef, stream: Stream): string => `${taskPath(t)}/logs/${stream}`;

export function fetchLogPage(t: TaskRef, stream: Stream, attempt: number | null,
  q: { from_line?: number; limit?: number; tail?: number }, signal?: AbortSignal): Promise<LogPage> {
  return getJson<LogPage>(apiUrl(logPath(t, stream), { attempt, ...q }), signal);
}

export function logDownloadUrl(t: TaskRef, stream: Stream, attempt: number | null): string {
  return apiUrl(`${logPath(t, stream)}/download`, { attempt });
}
