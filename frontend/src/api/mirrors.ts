// The mirrors of metaflow-service databases feeding this Flowscope (from /api/-/status).
import { useQuery } from "@tanstack/react-query";
import { apiUrl, getJson } from "./client";
import type { MirrorState, ServiceStatus } from "./types";

export type { MirrorState };

/** Mirrors and their state, re-read every 5 s (none configured: an empty list, nothing shown). */
export function useMirrors() {
  return useQuery({
    queryKey: ["mirrors"],
    refetchInterval: 5000,
    staleTime: 4000,
    queryFn: ({ signal }) =>
      getJson<{ data: ServiceStatus }>(apiUrl("/-/status"), signal).then((r) => r.data.mirrors),
  });
}

/** The tone of a state, for its colour: ok, busy, warn or fail. */
export function mirrorTone(state: MirrorState["state"]): "ok" | "busy" | "warn" | "fail" {
  if (state === "live") return "ok";
  if (state === "backfilling" || state === "starting") return "busy";
  if (state === "lagging") return "warn";
  return "fail";
}

/** "12 min 3 s" / "45 s" for an ETA or a lag in seconds. */
export function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
