import { describe, expect, it } from "vitest";
import type { MetadataEntry } from "../api/types";
import { noticesOf, placementOf, resourcesText } from "./taskPlacement";

const m = (field_name: string, value: string, type: string, attempt: number | null): MetadataEntry =>
  ({ field_name, value, type, attempt, tags: [], created_at: null });

describe("task placement", () => {
  const entries = [
    m("runtime", "flowscope", "runtime", null),
    m("remote-compute", "@kubernetes: no distributed executor is configured", "notice", null),
    m("executor", "ray", "executor", 0), m("host", "w1", "executor", 0), m("node-id", "abc123def4567890", "executor", 0),
    m("node-resources", '{"CPU": 2.0, "memory": 268435456}', "executor", 0),
    m("executor", "ray", "executor", 1), m("host", "w2", "executor", 1),
  ];
  it("reads each attempt's node", () => {
    expect(placementOf(entries, 0)).toEqual({ executor: "ray", host: "w1", nodeId: "abc123def4567890",
      resources: { CPU: 2, memory: 268435456 } });
    expect(placementOf(entries, 1)?.host).toBe("w2");
    expect(placementOf(entries, 2)).toBeNull();
  });
  it("formats resources and finds notices", () => {
    expect(resourcesText({ CPU: 2, memory: 268435456, "node:10.0.0.1": 1 })).toBe("CPU 2 · memory 256 MB");
    expect(noticesOf(entries)).toEqual(["@kubernetes: no distributed executor is configured"]);
  });
});
