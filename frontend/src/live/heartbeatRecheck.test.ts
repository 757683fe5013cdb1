import { describe, expect, it } from "vitest";
import { recheckAfterMs, recheckDelay, recheckEveryMs } from "./heartbeatRecheck";

const NOW = 1_000_000_000;
const T = 60_000;   // the server's FLOWSCOPE_HEARTBEAT_TIMEOUT (its default)
const same = { server: NOW, local: NOW };

describe("recheckDelay", () => {
  it("never re-asks a view with nothing running", () => {
    expect(recheckDelay([], same, NOW, T)).toBeNull();
    expect(recheckDelay([{ status: "completed", heartbeat_at: NOW - 600_000 },
      { status: "failed", heartbeat_at: NOW - 600_000 }], same, NOW - 60_000, T)).toBeNull();
  });

  it("re-asks just after the earliest running item passes the server's timeout", () => {
    const items = [{ status: "running", heartbeat_at: NOW - 2_000 }, { status: "running", heartbeat_at: NOW - 5_000 }];
    expect(recheckDelay(items, same, NOW - 30_000, T)).toBe(T + 1_000 - 5_000);
    // The threshold follows the server's timeout, not a constant of the UI.
    expect(recheckDelay(items, same, NOW - 30_000, 10_000)).toBe(10_000 + 1_000 - 5_000);
    expect(recheckAfterMs(3_000)).toBe(4_000);
  });

  it("does not re-ask before the server could call the item lost (no 20 s re-asks under a 60 s timeout)", () => {
    expect(recheckDelay([{ status: "running", heartbeat_at: NOW - 25_000 }], same, NOW - 30_000, T)).toBe(36_000);
  });

  it("re-asks a silent item at once, then every recheckEveryMs while it stays silent", () => {
    const items = [{ status: "running", heartbeat_at: NOW - 75_000 }];
    expect(recheckDelay(items, same, NOW - 30_000, T)).toBe(0);
    expect(recheckDelay(items, same, NOW - 3_000, T)).toBe(recheckEveryMs(T) - 3_000);
    expect(recheckEveryMs(T)).toBe(10_000);
    expect(recheckEveryMs(4_000)).toBe(2_000);
    expect(recheckEveryMs(500)).toBe(1_000);
  });

  it("judges heartbeats by the server's clock: a browser clock 5 min ahead does not re-ask a beating run", () => {
    const ahead = { server: NOW, local: NOW + 300_000 };
    const items = [{ status: "running", heartbeat_at: NOW - 4_000 }];
    expect(recheckDelay(items, ahead, NOW + 300_000, T)).toBe(T + 1_000 - 4_000);
    // Read on the browser's clock alone it would have been re-asked at once.
    expect(recheckDelay(items, { server: NOW + 300_000, local: NOW + 300_000 }, NOW + 290_000, T)).toBe(0);
  });

  it("uses the start when no heartbeat was recorded yet", () => {
    expect(recheckDelay([{ status: "running", heartbeat_at: null, started_at: NOW - 1_000, created_at: NOW - 9_000 }],
      same, NOW - 60_000, T)).toBe(T + 1_000 - 1_000);
    expect(recheckDelay([{ status: "running", heartbeat_at: null, started_at: null, created_at: null }], same, NOW, T)).toBeNull();
  });
});
