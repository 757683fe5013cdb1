import { describe, expect, it } from "vitest";
import { RECHECK_AFTER_MS, RECHECK_EVERY_MS, recheckDelay } from "./heartbeatRecheck";

const NOW = 1_000_000_000;

describe("recheckDelay", () => {
  it("never re-asks a view with nothing running", () => {
    expect(recheckDelay([], NOW, NOW)).toBeNull();
    expect(recheckDelay([{ status: "completed", heartbeat_at: NOW - 600_000 },
      { status: "failed", heartbeat_at: NOW - 600_000 }], NOW, NOW - 60_000)).toBeNull();
  });

  it("re-asks when the earliest running item falls silent", () => {
    const items = [{ status: "running", heartbeat_at: NOW - 2_000 }, { status: "running", heartbeat_at: NOW - 5_000 }];
    expect(recheckDelay(items, NOW, NOW - 30_000)).toBe(RECHECK_AFTER_MS - 5_000);
  });

  it("re-asks a silent item at once, then every RECHECK_EVERY_MS while it stays silent", () => {
    const items = [{ status: "running", heartbeat_at: NOW - 45_000 }];
    expect(recheckDelay(items, NOW, NOW - 30_000)).toBe(0);
    expect(recheckDelay(items, NOW, NOW - 3_000)).toBe(RECHECK_EVERY_MS - 3_000);
  });

  it("uses the start when no heartbeat was recorded yet", () => {
    expect(recheckDelay([{ status: "running", heartbeat_at: null, started_at: NOW - 1_000, created_at: NOW - 9_000 }],
      NOW, NOW - 60_000)).toBe(RECHECK_AFTER_MS - 1_000);
    expect(recheckDelay([{ status: "running", heartbeat_at: null, started_at: null, created_at: null }], NOW, NOW)).toBeNull();
  });
});
