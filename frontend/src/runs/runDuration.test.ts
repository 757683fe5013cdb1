import { describe, expect, it } from "vitest";
import { runDuration, runEnd } from "./runDuration";

const base = { started_at: 1000, created_at: 900, finished_at: null, heartbeat_at: null, duration_ms: null };

describe("runDuration", () => {
  it("a running run is measured to now", () => {
    expect(runDuration({ ...base, status: "running", duration_ms: 5 }, 4000)).toBe(3000);
  });
  it("a finished run uses the server's duration", () => {
    expect(runDuration({ ...base, status: "completed", finished_at: 3000, duration_ms: 2000 }, 9999)).toBe(2000);
  });
  it("a run that lost its heartbeat stops at the last heartbeat", () => {
    expect(runDuration({ ...base, status: "failed", heartbeat_at: 2500 }, 9_999_999)).toBe(1500);
    expect(runDuration({ ...base, status: "failed" }, 9_999_999)).toBeNull();
  });
});

describe("runEnd", () => {
  it("ends the time axis at now, the finish, or the last heartbeat of a run that lost it", () => {
    expect(runEnd({ status: "running", finished_at: null, heartbeat_at: 2500 }, 4000)).toBe(4000);
    expect(runEnd({ status: "completed", finished_at: 3000, heartbeat_at: 2500 }, 9999)).toBe(3000);
    expect(runEnd({ status: "failed", finished_at: null, heartbeat_at: 2500 }, 9_999_999)).toBe(2500);
  });
});
