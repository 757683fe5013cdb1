import { describe, expect, it } from "vitest";
import { hasFilters } from "./RunsEmpty";
import { parseLocation } from "../nav/viewState";

describe("hasFilters", () => {
  const runs = (url: string) => parseLocation(new URL(url, "http://x").pathname, new URL(url, "http://x").search, "").runs;
  it("does not count the page's own flow, sorting or grouping as filters", () => {
    expect(hasFilters(runs("/"), null)).toBe(false);
    expect(hasFilters(runs("/TrainFlow"), "TrainFlow")).toBe(false);
    expect(hasFilters(runs("/?sort=duration&dir=asc&group=user"), null)).toBe(false);
  });
  it("counts status, user, tag, time range and the flow box", () => {
    expect(hasFilters(runs("/?status=failed"), null)).toBe(true);
    expect(hasFilters(runs("/TrainFlow?user=alice"), "TrainFlow")).toBe(true);
    expect(hasFilters(runs("/?tag=a"), null)).toBe(true);
    expect(hasFilters(runs("/?range=24h"), null)).toBe(true);
    expect(hasFilters(runs("/?flow=Train"), null)).toBe(true);
  });
});
