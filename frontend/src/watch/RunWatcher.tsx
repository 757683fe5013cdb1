// Follows every watched run (one live subscription each) and turns its transitions into a
// browser notification and a badge in the tab title. Mounted once, in the app shell.
import { useEffect, useMemo, useRef } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { apiUrl } from "../api/client";
import { patchRun, useRun } from "../api/runs";
import { runPath } from "../api/runDetail";
import { useLiveResource } from "../live/useLive";
import { useHeartbeatRecheck } from "../live/heartbeatRecheck";
import { useNow } from "../ui/useNow";
import { addAlert, alertFor, clearAlerts, isStalled, titleWith, useWatchState } from "./watchStore";

function notify(text: string, pathspec: string): void {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  try {
    const n = new Notification("Flowscope", { body: text, tag: pathspec });
    n.onclick = () => { window.focus(); window.location.assign(`/${pathspec}?tab=triage`); };
  } catch {
    // Some browsers only notify from a service worker: the title badge still shows it.
  }
}

function WatchOne({ pathspec }: { pathspec: string }) {
  const [flow = "", run = ""] = pathspec.split("/");
  const client = useQueryClient();
  const q = useRun(flow, run);
  useLiveResource("run", q.isSuccess ? apiUrl(runPath(flow, run)) : null, q.data?.seq ?? null, (e) => patchRun(client, e.data));
  // A watched run that dies turns failed with no event: re-ask it, so its "failed" alert comes.
  const shown = useMemo(() => (q.data ? [q.data] : undefined), [q.data]);
  useHeartbeatRecheck(shown, q.dataUpdatedAt, q.refetch);
  const now = useNow(true);
  const prev = useRef<{ status: string; stalled: boolean } | null>(null);
  const data = q.data;
  useEffect(() => {
    if (!data) return;
    const alert = alertFor(pathspec, prev.current, data, now);
    if (alert) {
      addAlert(alert);
      notify(alert.text, pathspec);
    }
    prev.current = { status: data.status, stalled: isStalled(data, now) };
  }, [data, now, pathspec]);
  return null;
}

export function RunWatcher() {
  const { watched, alerts } = useWatchState();
  const base = useRef(document.title);
  useEffect(() => {
    // Keep the page's own title as the base, whatever view set it.
    if (!alerts.length) base.current = document.title;
    document.title = titleWith(base.current, alerts);
  }, [alerts]);
  useEffect(() => {
    // Seen once the user comes back to the tab.
    const onVisible = () => { if (document.visibilityState === "visible" && document.hasFocus()) clearAlerts(); };
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, []);
  return <>{watched.map((p) => <WatchOne key={p} pathspec={p} />)}</>;
}
