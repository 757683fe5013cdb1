import { describe, expect, it } from "vitest";
import type { Attempt } from "../api/types";
import { attemptTiming, timingText, type TaskTiming } from "./timing";

const t = (p: Partial<TaskTiming>): TaskTiming =>
  ({ ready_at: null, started_at: null, finished_at: null, queued_ms: null, running_ms: null, ...p });

describe("timingText", () => {
  it("says queued and running time of a finished task", () => {
    expect(timingText(t({ ready_at: 1000, started_at: 2500, finished_at: 6000, queued_ms: 1500, running_ms: 3500 }), 9e9))
      .toBe("queued 1.5s · running 3.5s");
  });
  it("counts a running task's time up to now", () => {
    expect(timingText(t({ ready_at: 0, started_at: 200, queued_ms: 200 }), 5200)).toBe("queued 200ms · running 5.0s so far");
  });
  it("counts a ready task's wait up to now, before it starts", () => {
    expect(timingText(t({ ready_at: 1000 }), 13_000)).toBe("queued 12s so far · not started");
  });
  it("does not guess the queued time while a parent runs", () => {
    expect(timingText(t({ started_at: 100, finished_at: 400, running_ms: 300 }), 9e9)).toBe("queued ? · running 300ms");
  });
  it("says a task whose heartbeat was lost ran until then, a figure that does not grow", () => {
    const lost = t({ ready_at: 0, started_at: 200, queued_ms: 200, running_ms: 80_000 });
    expect(timingText(lost, 9e9)).toBe("queued 200ms · running 1m 20s until its heartbeat stopped");
  });
});

const at = (attempt: number, started_at: number | null, finished_at: number | null): Attempt => ({
  attempt, status: finished_at === null ? "running" : "completed", status_reason: null, started_at, finished_at,
  duration_ms: null, exit_code: null, exception_type: null, exception_message: null, traceback: null,
});

describe("attemptTiming", () => {
  // A retried task: ready at 1000, attempt 0 ran 1100-1130, attempt 1 ran 1170-1250. The server's
  // timing spans the task: queued 100 (to attempt 0's start), running 150 (to attempt 1's finish).
  const task = t({ ready_at: 1000, started_at: 1100, finished_at: 1250, queued_ms: 100, running_ms: 150 });
  const attempts = [at(0, 1100, 1130), at(1, 1170, 1250)];
  it("gives attempt 0 its own running time, queued from when the task could start", () => {
    expect(attemptTiming(task, attempts, 0)).toMatchObject({ queued_ms: 100, running_ms: 30, finished_at: 1130 });
    expect(timingText(attemptTiming(task, attempts, 0), 9e9)).toBe("queued 100ms · running 30ms");
  });
  it("queues a retry from the previous attempt's finish", () => {
    expect(attemptTiming(task, attempts, 1)).toMatchObject({ ready_at: 1130, queued_ms: 40, running_ms: 80 });
  });
  it("keeps the server's figures for a task run once or without an attempt", () => {
    expect(attemptTiming(task, [at(0, 1100, 1250)], 0)).toBe(task);
    expect(attemptTiming(task, attempts, null)).toBe(task);
    expect(attemptTiming(task, attempts, 7)).toBe(task);
  });
  it("counts the latest attempt whose heartbeat was lost to the last heartbeat", () => {
    const lost = t({ ready_at: 1000, started_at: 1100, queued_ms: 100, running_ms: 900 }); // last sign at 2000
    const shown = attemptTiming(lost, [at(0, 1100, 1130), at(1, 1170, null)], 1);
    expect(shown.running_ms).toBe(830);
    expect(timingText(shown, 9e9)).toBe("queued 40ms · running 830ms until its heartbeat stopped");
  });
  it("does not let an earlier attempt without a recorded finish grow", () => {
    const shown = attemptTiming(task, [at(0, 1100, null), at(1, 1170, 1250)], 0);
    expect(timingText(shown, 9e9)).toBe("queued 100ms · running ?");
  });
});
