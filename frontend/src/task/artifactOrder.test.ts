import { describe, expect, it } from "vitest";
import { splitArtifacts } from "./artifactOrder";

describe("splitArtifacts", () => {
  it("puts the flow's own artifacts before Metaflow's internal ones, each in the server's order", () => {
    const names = ["_configs_processed", "_current_step", "name", "_graph_info", "total", "model"].map((name) => ({ name }));
    const { own, internal } = splitArtifacts(names);
    expect(own.map((a) => a.name)).toEqual(["name", "total", "model"]);
    expect(internal.map((a) => a.name)).toEqual(["_configs_processed", "_current_step", "_graph_info"]);
  });
  it("leaves a native run's artifacts (no internal ones) as they are", () => {
    expect(splitArtifacts([{ name: "data" }, { name: "seed" }])).toEqual({ own: [{ name: "data" }, { name: "seed" }], internal: [] });
  });
});
