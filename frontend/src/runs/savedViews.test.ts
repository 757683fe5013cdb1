import { describe, expect, it } from "vitest";
import { loadViews, withView } from "./savedViews";

describe("saved views", () => {
  it("adds, replaces by name and sorts; ignores empty names", () => {
    let v = withView([], "failed nightly", "/?status=failed&tag=nightly");
    v = withView(v, "  alice ", "/?user=alice");
    v = withView(v, "failed nightly", "/?status=failed&tag=nightly&range=24h");
    expect(v).toEqual([{ name: "alice", url: "/?user=alice" },
      { name: "failed nightly", url: "/?status=failed&tag=nightly&range=24h" }]);
    expect(withView(v, "   ", "/x")).toEqual(v);
  });
  it("reads only well-formed entries", () => {
    const store = { getItem: () => JSON.stringify([{ name: "a", url: "/" }, { name: 3 }, "x"]) };
    expect(loadViews(store)).toEqual([{ name: "a", url: "/" }]);
    expect(loadViews({ getItem: () => "not json" })).toEqual([]);
  });
});
