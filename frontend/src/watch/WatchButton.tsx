// "Watch" on a running run: asks for notification permission at that moment (never on load), then
// the RunWatcher notifies when the run finishes, fails or stalls.
import { useState } from "react";
import type { Run } from "../api/types";
import { unwatch, useWatchState, watch } from "./watchStore";

export function WatchButton({ run }: { run: Run }) {
  const { watched } = useWatchState();
  const [note, setNote] = useState<string | null>(null);
  const on = watched.includes(run.pathspec);
  const start = async () => {
    if (typeof Notification === "undefined") {
      setNote("this browser has no notifications: the tab title will show it");
    } else if (Notification.permission === "default") {
      const answer = await Notification.requestPermission();
      if (answer !== "granted") setNote("notifications are blocked: the tab title will show it");
    } else if (Notification.permission === "denied") {
      setNote("notifications are blocked: the tab title will show it");
    }
    watch(run.pathspec);
  };
  if (!on && run.status !== "running") return null;
  return (
    <span className="watch">
      <button type="button" className="btn btn-small" aria-pressed={on} data-testid="watch-run"
        title={on ? "Stop watching this run" : "Notify me when this run finishes, fails or stalls"}
        onClick={() => (on ? unwatch(run.pathspec) : void start())}>
        {on ? "Watching ✓" : "Watch"}
      </button>
      {note && <span className="muted" role="status"> {note}</span>}
    </span>
  );
}
