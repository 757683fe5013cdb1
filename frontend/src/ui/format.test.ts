import { describe, expect, it } from "vitest";
import { formatAgo, formatBytes, formatCount, formatDuration, liveDuration, taskDuration } from "./format";

describe("formatDuration", () => {
  it("picks a unit that keeps the text short", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(340)).toBe("340ms");
    expect(formatDuration(4_900)).toBe("4.9s");
    expect(formatDuration(42_000)).toBe("42s");
    expect(formatDuration(125_000)).toBe("2m 05s");
    expect(formatDuration(3 * 3_600_000 + 7 * 60_000)).toBe("3h 07m");
    expect(formatDuration(50 * 3_600_000)).toBe("2d 2h");
  });
});

describe("formatBytes / formatAgo / liveDuration", () => {
  it("formats sizes", () => {
    expect(formatBytes(12)).toBe("12 B");
    expect(formatBytes(2048)).toBe("2.0 KB");
    expect(formatBytes(50 * 1024 * 1024)).toBe("50 MB");
  });
  it("formats relative times", () => {
    expect(formatAgo(1000, 61_000)).toBe("1m ago");
    expect(formatAgo(10_000, 5_000)).toBe("in 5s");
  });
  it("measures running things to now", () => {
    expect(liveDuration(100, null, 600)).toBe(500);
    expect(liveDuration(100, 300, 600)).toBe(200);
    expect(liveDuration(null, null, 600)).toBeNull();
    // not running, no finish recorded (heartbeat lost): until its last sign of life, not now
    expect(liveDuration(100, null, 9e9, { at: 400 })).toBe(300);
    expect(liveDuration(100, null, 9e9, { at: null })).toBeNull();
    expect(liveDuration(100, 250, 9e9, { at: 400 })).toBe(150);
  });
});

describe("formatCount", () => {
  it("groups thousands like en-US, without the locale machinery for integers", () => {
    for (const n of [0, 7, 999, 1000, 12_345, 100_003, 1_000_000, 987_654_321, -4_500, -999]) {
      expect(formatCount(n)).toBe(n.toLocaleString("en-US"));
    }
    expect(formatCount(1_000_000)).toBe("1,000,000");
    expect(formatCount(1234.5)).toBe("1,234.5");
  });
});

describe("taskDuration", () => {
  const t = { status: "completed", started_at: 1_000, finished_at: 4_000, heartbeat_at: 3_900, duration_ms: 3_000 };
  it("is finished - started, or up to now while running", () => {
    expect(taskDuration(t, 99_000)).toBe(3_000);
    expect(taskDuration({ ...t, status: "running", finished_at: null }, 9_000)).toBe(8_000);
  });
  it("ends a task whose heartbeat was lost at its last heartbeat, not now", () => {
    expect(taskDuration({ ...t, status: "failed", finished_at: null, heartbeat_at: 6_000, duration_ms: null }, 999_000)).toBe(5_000);
  });
  it("has none for a task that never started", () => {
    expect(taskDuration({ ...t, status: "pending", started_at: null, finished_at: null, duration_ms: null }, 9_000)).toBeNull();
  });
});
