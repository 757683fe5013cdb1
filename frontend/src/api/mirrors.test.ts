import { describe, expect, it } from "vitest";
import { mirrorTone, shortDuration } from "./mirrors";

describe("mirror state", () => {
  it("colours each state", () => {
    expect(mirrorTone("live")).toBe("ok");
    expect(mirrorTone("backfilling")).toBe("busy");
    expect(mirrorTone("lagging")).toBe("warn");
    expect(mirrorTone("disconnected")).toBe("fail");
    expect(mirrorTone("refused")).toBe("fail");
    expect(mirrorTone("stopped")).toBe("fail");
  });
  it("writes durations short", () => {
    expect(shortDuration(12.4)).toBe("12 s");
    expect(shortDuration(723)).toBe("12 min 3 s");
    expect(shortDuration(7260)).toBe("2 h 1 min");
    expect(shortDuration(-3)).toBe("0 s");
  });
});
