import { describe, expect, it } from "vitest";
import { timingText, type TaskTiming } from "./timing";

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
