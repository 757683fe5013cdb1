import { describe, expect, it } from "vitest";
import { baseName, includedFile } from "./includedFile";
import { configSummary, parameterKinds } from "./RunParams";

describe("run parameters", () => {
  it("reads the kinds a DAG records and ignores anything else", () => {
    const kinds = parameterKinds([
      { name: "alpha", type: "Parameter" }, { name: "data", type: "IncludeFile" },
      { name: "cfg", type: "Config" }, { name: "odd", type: "str" }, null, "x",
    ]);
    expect([...kinds]).toEqual([["alpha", "Parameter"], ["data", "IncludeFile"], ["cfg", "Config"]]);
    expect(parameterKinds(undefined).size).toBe(0);
  });

  it("reads core_runtime's and Metaflow's IncludeFile descriptors", () => {
    expect(includedFile({ type: "IncludeFile", path: "data/x.csv", size: 14, is_text: true, encoding: "utf-8" }))
      .toEqual({ path: "data/x.csv", url: null, size: 14, isText: true, encoding: "utf-8" });
    expect(includedFile({ type: "IncludeFile", url: "s3://b/F/abc", size: 3, is_text: false, encoding: null }))
      .toEqual({ path: null, url: "s3://b/F/abc", size: 3, isText: false, encoding: null });
    expect(includedFile({ type: "other" })).toBeNull();
    expect(includedFile("data.csv")).toBeNull();
    expect(includedFile([{ type: "IncludeFile" }])).toBeNull();
  });

  it("names a file by its last path segment and sums up a config", () => {
    expect(baseName("/tmp/a/b.csv")).toBe("b.csv");
    expect(baseName("c:\\x\\y.txt")).toBe("y.txt");
    expect(configSummary({ a: 1, b: 2 })).toBe("{2 keys}");
    expect(configSummary({ a: 1 })).toBe("{1 key}");
    expect(configSummary([1])).toBe("[1 item]");
    expect(configSummary("plain")).toBe("plain");
  });
});
