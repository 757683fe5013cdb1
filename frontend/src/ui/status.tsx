import type { Status, TaskCounts } from "../api/types";
import { formatCount } from "./format";

export function StatusBadge({ status, reason }: { status: Status | null | undefined; reason?: string | null }) {
  const s = status ?? "pending";
  return (
    <span className={`badge status-${s}`} title={reason ?? undefined} data-status={s}>
      <span className="dot" aria-hidden />
      {s}
    </span>
  );
}

/** "998 done · 2 failed · 40 running": only the non-zero counts, in a fixed order. */
export function countsText(c: TaskCounts | undefined): string {
  if (!c) return "";
  const parts: string[] = [];
  if (c.completed) parts.push(`${formatCount(c.completed)} done`);
  if (c.failed) parts.push(`${formatCount(c.failed)} failed`);
  if (c.running) parts.push(`${formatCount(c.running)} running`);
  if (c.pending) parts.push(`${formatCount(c.pending)} pending`);
  return parts.join(" · ") || "no tasks";
}

export function TaskCountsBar({ counts }: { counts: TaskCounts | undefined }) {
  if (!counts || !counts.total) return <span className="muted">no tasks</span>;
  const order: Status[] = ["completed", "failed", "running", "pending"];
  return (
    <span className="counts" title={countsText(counts)}>
      <span className="counts-bar" aria-hidden>
        {order.map((s) =>
          counts[s] ? <span key={s} className={`fill-${s}`} style={{ flexGrow: counts[s] }} /> : null,
        )}
      </span>
      <span className="counts-text">{countsText(counts)}</span>
    </span>
  );
}
