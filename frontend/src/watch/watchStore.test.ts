import { describe, expect, it } from "vitest";
import { STALL_MS, alertFor, titleWith } from "./watchStore";

const run = (status: string, heartbeat_at: number | null = 1000, status_reason: string | null = null) =>
  ({ status, heartbeat_at, status_reason });

describe("alertFor", () => {
  it("reports a finish or a failure once, from running", () => {
    expect(alertFor("F/1", { status: "running", stalled: false }, run("completed"), 2000)?.kind).toBe("completed");
    const failed = alertFor("F/1", { status: "running", stalled: false }, run("failed", 1000, "step x failed"), 2000);
    expect(failed).toMatchObject({ kind: "failed", text: "F/1 failed: step x failed" });
    expect(alertFor("F/1", { status: "failed", stalled: false }, run("failed"), 2000)).toBeNull();
    expect(alertFor("F/1", null, run("completed"), 2000)).toBeNull();   // finished before we watched
  });
  it("reports a stall when the heartbeat ages past the threshold, once", () => {
    const now = 1000 + STALL_MS + 5000;
    expect(alertFor("F/1", { status: "running", stalled: false }, run("running"), 1000 + STALL_MS - 1)).toBeNull();
    expect(alertFor("F/1", { status: "running", stalled: false }, run("running"), now)?.text).toBe("F/1 is stalling: no heartbeat for 35 s");
    expect(alertFor("F/1", { status: "running", stalled: true }, run("running"), now)).toBeNull();
  });
});

describe("titleWith", () => {
  it("puts the newest alert in front of the page title", () => {
    expect(titleWith("Flowscope", [])).toBe("Flowscope");
    const a = { pathspec: "F/1", kind: "failed" as const, text: "", at: 1 };
    const b = { pathspec: "F/2", kind: "completed" as const, text: "", at: 2 };
    expect(titleWith("Flowscope", [a])).toBe("✖ F/1 failed · Flowscope");
    expect(titleWith("Flowscope", [a, b])).toBe("✔ F/2 completed (+1) · Flowscope");
  });
});
