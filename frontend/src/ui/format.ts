// Human formatting of times, durations, sizes and counts. Pure, so the same text appears everywhere.

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.floor(s)}s`;
  const m = Math.floor(s / 60);
  const rs = Math.floor(s % 60);
  if (m < 60) return `${m}m ${String(rs).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  const rm = m % 60;
  if (h < 48) return `${h}h ${String(rm).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

const pad = (n: number): string => String(n).padStart(2, "0");

/** `2026-11-23 14:03:12` in local time: sortable and unambiguous, like a log. */
export function formatTime(ms: number | null | undefined): string {
  if (!ms) return "—";
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatClock(ms: number | null | undefined, withMs = false): string {
  if (!ms) return "";
  const d = new Date(ms);
  const base = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${base}.${String(d.getMilliseconds()).padStart(3, "0")}` : base;
}

/** "3m ago" / "in 2h": relative to `now`. */
export function formatAgo(ms: number | null | undefined, now: number): string {
  if (!ms) return "—";
  const diff = now - ms;
  const abs = Math.abs(diff);
  const unit =
    abs < 60_000 ? `${Math.max(1, Math.round(abs / 1000))}s`
    : abs < 3_600_000 ? `${Math.round(abs / 60_000)}m`
    : abs < 86_400_000 ? `${Math.round(abs / 3_600_000)}h`
    : `${Math.round(abs / 86_400_000)}d`;
  return diff >= 0 ? `${unit} ago` : `in ${unit}`;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/**
 * `1,000,000`. Integers are grouped by hand: the first toLocaleString of a page loads the ICU
 * number formatter, ~40 ms on the critical path of the first paint (the run header's counts).
 */
export function formatCount(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString("en-US");
  const s = String(Math.abs(n));
  let out = "";
  for (let i = s.length; i > 0; i -= 3) out = (i > 3 ? "," : "") + s.slice(Math.max(0, i - 3), i) + out;
  return n < 0 ? `-${out}` : out;
}

/** A task's duration as its page gives it: finished − started; while running, now − started; a task
 * whose heartbeat was lost with no finish recorded ran until its last heartbeat, not until now. */
export function taskDuration(t: { status: string; started_at: number | null; finished_at: number | null;
  heartbeat_at: number | null; duration_ms: number | null }, now: number): number | null {
  const stopped = t.status === "running" || t.status === "pending" ? undefined : { at: t.heartbeat_at };
  return liveDuration(t.started_at, t.finished_at, now, stopped) ?? t.duration_ms;
}

/** Elapsed time of something that may still be running: finished - started, else now - started.
 * ``stopped``: it is not running although no finish was recorded (a heartbeat lost: killed without a
 * word); it ran until ``stopped.at``, its last sign of life (null: unknown), never until now. */
export function liveDuration(started: number | null | undefined, finished: number | null | undefined, now: number,
  stopped?: { at: number | null | undefined }): number | null {
  if (!started) return null;
  if (finished) return finished - started;
  if (stopped) return stopped.at ? Math.max(0, stopped.at - started) : null;
  return now - started;
}
