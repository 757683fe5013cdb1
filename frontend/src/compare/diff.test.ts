import { describe, expect, it } from "vitest";
import type { Comparison } from "./compareApi";
import { compareUrl, formatRatio, formatValue, orderPair, parseSteps, ratioTone, summarize, totalChanges } from "./diff";

describe("compareUrl", () => {
  it("encodes the pair and the chosen steps", () => {
    expect(compareUrl("F/1", "F/2")).toBe("/-/compare?a=F%2F1&b=F%2F2");
    expect(compareUrl("F/1", "F/2", ["train", "score"])).toBe("/-/compare?a=F%2F1&b=F%2F2&steps=train%2Cscore");
  });
});

describe("orderPair", () => {
  const r = (pathspec: string, created_at: number) => ({ pathspec, created_at });
  it("puts the older run first", () => {
    expect(orderPair([r("F/9", 20), r("F/3", 10)])?.map((x) => x.pathspec)).toEqual(["F/3", "F/9"]);
    expect(orderPair([r("F/3", 10), r("F/9", 20)])?.map((x) => x.pathspec)).toEqual(["F/3", "F/9"]);
  });
  it("breaks ties by pathspec and needs exactly two", () => {
    expect(orderPair([r("F/b", 5), r("F/a", 5)])?.map((x) => x.pathspec)).toEqual(["F/a", "F/b"]);
    expect(orderPair([r("F/a", 5)])).toBeNull();
    expect(orderPair([r("F/a", 5), r("F/b", 6), r("F/c", 7)])).toBeNull();
  });
});

describe("ratios", () => {
  it("colours slow-downs from +25% and speed-ups from −20%", () => {
    expect(ratioTone(1.25)).toBe("slower");
    expect(ratioTone(1.24)).toBe("same");
    expect(ratioTone(0.8)).toBe("faster");
    expect(ratioTone(0.81)).toBe("same");
    expect(ratioTone(null)).toBe("none");
    expect(ratioTone(Number.NaN)).toBe("none");
  });
  it("formats as a signed percentage, or a multiple when large", () => {
    expect(formatRatio(1.5)).toBe("+50%");
    expect(formatRatio(0.75)).toBe("−25%");
    expect(formatRatio(1.001)).toBe("±0%");
    expect(formatRatio(12.4)).toBe("×12");
    expect(formatRatio(null)).toBe("—");
  });
});

describe("formatValue and parseSteps", () => {
  it("shows strings bare and the rest as JSON", () => {
    expect(formatValue("x")).toBe("x");
    expect(formatValue(0.1)).toBe("0.1");
    expect(formatValue({ a: [1] })).toBe('{"a":[1]}');
    expect(formatValue(undefined)).toBe("—");
    // an IncludeFile descriptor reads as the file, not its JSON (core_runtime: path; Metaflow: url)
    expect(formatValue({ type: "IncludeFile", path: "data/x.csv", size: 14, is_text: true, encoding: "utf-8" }))
      .toBe("x.csv · 14 B · text");
    expect(formatValue({ type: "IncludeFile", url: "s3://b/mf/data/ab/abcd", size: 2048, is_text: false }))
      .toBe("abcd · 2.0 KB · binary");
  });
  it("splits, trims and dedupes steps", () => {
    expect(parseSteps(" train, score,,train ")).toEqual(["train", "score"]);
    expect(parseSteps(null)).toEqual([]);
  });
});

describe("summarize", () => {
  const run = { pathspec: "F/1" } as Comparison["a"];
  const base: Comparison = {
    a: run, b: run, same_flow: true, note: null,
    parameters: [{ name: "alpha", status: "changed", a: 1, b: 2 }, { name: "beta", status: "unchanged", a: 1, b: 1 }],
    tags: { added: ["x"], removed: [], unchanged: ["y"] },
    steps: [{ step_name: "score", status: "added", a: null, b: null, ratio: null }],
    artifact_steps: ["end"], artifacts: [], artifacts_truncated: false,
    failures: { a: null, b: null },
  };
  it("counts only what differs", () => {
    const s = summarize(base);
    expect(s).toEqual({ parameters: 1, tags: 1, steps: 1, artifacts: 0, failures: 0 });
    expect(totalChanges(s)).toBe(3);
  });
  it("counts a failure that only one run has", () => {
    const fail = { step_name: "train", task_id: "3", attempt: 0, pathspec: "F/2/train/3", exception_type: "E",
      exception_message: "m", status_reason: null, failed_at: 1 };
    expect(summarize({ ...base, failures: { a: null, b: fail } }).failures).toBe(1);
    expect(summarize({ ...base, failures: { a: fail, b: { ...fail, pathspec: "F/1/train/3" } } }).failures).toBe(0);
  });
});
