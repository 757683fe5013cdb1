import { describe, expect, it } from "vitest";
import { clampHeight, safeApiPath, safeNavigatePath } from "./hostRules";

describe("safeNavigatePath", () => {
  it("accepts pathspec paths of the app", () => {
    expect(safeNavigatePath("/")).toBe("/");
    expect(safeNavigatePath("/TrainFlow/12/train/345")).toBe("/TrainFlow/12/train/345");
    expect(safeNavigatePath("/TrainFlow/12?tab=dag")).toBe("/TrainFlow/12?tab=dag");
    expect(safeNavigatePath("/My%20Flow/12")).toBe("/My%20Flow/12");
  });
  it("refuses other origins, schemes, traversal and app-internal pages", () => {
    for (const bad of ["https://evil.example", "//evil.example/x", "javascript:alert(1)", "/a/b/c/d/e",
      "/TrainFlow/../..", "/TrainFlow/%2e%2e", "/-/plugins", "/\\evil", "", "TrainFlow/12", 42, null, "/a//b"]) {
      expect(safeNavigatePath(bad), String(bad)).toBeNull();
    }
  });
});

describe("safeApiPath", () => {
  it("allows API reads and refuses the rest", () => {
    expect(safeApiPath("/api/flows/F/runs/1/tasks?limit=1000")).toBe("/api/flows/F/runs/1/tasks?limit=1000");
    for (const bad of ["/api/ws", "/api/-/settings", "/api/flows/%2e%2e/x", "/api/../x", "https://x/api/", "/-/plugins/x"]) {
      expect(safeApiPath(bad), bad).toBeNull();
    }
  });
});

describe("clampHeight", () => {
  it("clamps to a sane range and refuses non-numbers", () => {
    expect(clampHeight(5)).toBe(20);
    expect(clampHeight(123.4)).toBe(123);
    expect(clampHeight(1e9)).toBe(4000);
    expect(clampHeight("100")).toBeNull();
    expect(clampHeight(Number.NaN)).toBeNull();
  });
});
