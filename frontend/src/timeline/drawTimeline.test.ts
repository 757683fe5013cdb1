import { describe, expect, it } from "vitest";
import { fitText } from "./drawTimeline";

describe("label fitting", () => {
  const measure = (t: string) => t.length * 7;
  it("keeps a label that fits", () => {
    expect(fitText("start/1", 100, measure)).toBe("start/1");
  });
  it("cuts a long label with an ellipsis to the widest prefix that fits", () => {
    const out = fitText("sweep/123456789  [lr=0.001,batch=64]", 70, measure);
    expect(out).toBe("sweep/123…");
    expect(measure(out)).toBeLessThanOrEqual(70);
  });
});
