import { beforeEach, describe, expect, it } from "vitest";
import { noteServerDate, resetServerClock, serverNow, serverOffset } from "./serverClock";

const SERVER = Date.parse("Sun, 06 Dec 2026 04:30:00 GMT");

describe("serverClock", () => {
  beforeEach(resetServerClock);

  it("is the browser's clock until an answer says otherwise", () => {
    expect(serverOffset()).toBe(0);
    expect(serverNow(123)).toBe(123);
  });

  it("reads a browser clock running 5 minutes ahead from the answers' Date header", () => {
    noteServerDate("Sun, 06 Dec 2026 04:30:00 GMT", SERVER + 300_400);
    noteServerDate("Sun, 06 Dec 2026 04:30:01 GMT", SERVER + 300_300 + 1_000);
    // The largest sample is the closest to the truth (Date is truncated to the second).
    expect(serverOffset()).toBe(-300_300);
    expect(serverNow(SERVER + 300_300)).toBe(SERVER);
  });

  it("ignores answers without a usable Date", () => {
    noteServerDate(null, SERVER);
    noteServerDate("not a date", SERVER);
    expect(serverOffset()).toBe(0);
  });

  it("follows a browser clock corrected later (only recent answers count)", () => {
    noteServerDate("Sun, 06 Dec 2026 04:30:00 GMT", SERVER - 60_000);
    for (let i = 0; i < 16; i++) noteServerDate("Sun, 06 Dec 2026 04:30:00 GMT", SERVER);
    expect(serverOffset()).toBe(0);
  });
});
