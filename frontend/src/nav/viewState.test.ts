import { describe, expect, it } from "vitest";
import {
  formatLineHash, formatLocation, goToLocation, parseLineHash, parseLocation, parsePathspec, resolveRange,
  DEFAULT_RUN_FILTERS,
} from "./viewState";

const roundTrip = (url: string): string => {
  const u = new URL(url, "http://x");
  return formatLocation(parseLocation(u.pathname, u.search, u.hash));
};

describe("URL ⇄ view state", () => {
  it("parses path segments as a pathspec", () => {
    const s = parseLocation("/TrainFlow/12/train/345", "");
    expect(s.path).toEqual({ flow: "TrainFlow", run: "12", step: "train", task: "345" });
  });

  it("reads run-list filters from the home query", () => {
    const s = parseLocation("/", "?status=failed,running&user=alice&tag=a&tag=b&group=flow&sort=duration&dir=asc");
    expect(s.runs.status).toEqual(["failed", "running"]);
    expect(s.runs.user).toBe("alice");
    expect(s.runs.tags).toEqual(["a", "b"]);
    expect(s.runs.group).toBe("flow");
    expect(s.runs.sort).toBe("duration");
    expect(s.runs.dir).toBe("asc");
  });

  it("ignores unknown values instead of failing", () => {
    const s = parseLocation("/", "?status=bogus&group=weird&sort=nope");
    expect(s.runs.status).toEqual([]);
    expect(s.runs.group).toBe("none");
    expect(s.runs.sort).toBe("created");
  });

  it("the flow path segment is the flow filter of the run list", () => {
    expect(parseLocation("/HelloFlow", "").runs.flow).toBe("HelloFlow");
    expect(roundTrip("/HelloFlow?status=failed")).toBe("/HelloFlow?status=failed");
  });

  it("round-trips home, run, step and task URLs", () => {
    for (const url of [
      "/",
      "/?status=failed,running&user=bob&tag=x&tag=y&range=7d&group=user&sort=flow&dir=asc",
      "/?range=custom&from=1000&to=2000",
      "/F/1?tab=dag",
      "/F/1?status=failed&tsort=duration&tgroup=flat&ws=100&we=900",
      "/F/1?tstep=a&tstep=b",
      "/F/1?tgroup=dense",
      "/F/1?tab=search&q=loss",
      "/F/1?cp=1",
      "/F/1?tab=triage&dg=0a1b2c3d4e5f",
      "/F/1/train",
      "/F/1/train/7?attempt=1&panel=artifacts",
      "/F/1/train/7?stream=stderr&ts=1&wrap=1#L120-140",
      "/F/1/train/7#L5",
    ]) {
      expect(roundTrip(url)).toBe(url);
    }
  });

  it("a step route filters the timeline to that step", () => {
    const s = parseLocation("/F/1/train", "");
    expect(s.timeline.steps).toEqual(["train"]);
    expect(formatLocation(s)).toBe("/F/1/train");
  });

  it("drops an empty or inverted timeline window", () => {
    expect(parseLocation("/F/1", "?ws=500&we=100").timeline.window).toBeNull();
    expect(parseLocation("/F/1", "?ws=100&we=500").timeline.window).toEqual([100, 500]);
  });

  it("encodes special characters in path segments", () => {
    const s = parseLocation("/", "");
    s.path = { flow: "My Flow", run: "a/b", step: null, task: null };
    expect(formatLocation(s)).toBe("/My%20Flow/a%2Fb");
    expect(parseLocation("/My%20Flow/a%2Fb", "").path.run).toBe("a/b");
  });
});

describe("log line hashes", () => {
  it("parses single lines and ranges", () => {
    expect(parseLineHash("#L120")).toEqual([120, 120]);
    expect(parseLineHash("#L120-140")).toEqual([120, 140]);
    expect(parseLineHash("#L140-L120")).toEqual([120, 140]);
    expect(parseLineHash("#L0")).toBeNull();
    expect(parseLineHash("#foo")).toBeNull();
  });
  it("formats back", () => {
    expect(formatLineHash([3, 3])).toBe("#L3");
    expect(formatLineHash([3, 9])).toBe("#L3-9");
    expect(formatLineHash(null)).toBe("");
  });
});

describe("pasted pathspecs", () => {
  it("accepts one to four segments", () => {
    expect(parsePathspec("Flow")).toEqual({ flow: "Flow", run: null, step: null, task: null });
    expect(parsePathspec(" Flow/12/train/345 ")).toEqual({ flow: "Flow", run: "12", step: "train", task: "345" });
    expect(parsePathspec("/Flow/12/")).toEqual({ flow: "Flow", run: "12", step: null, task: null });
  });
  it("accepts a pasted Flowscope URL", () => {
    expect(parsePathspec("http://localhost:8083/Flow/12?tab=dag")?.run).toBe("12");
  });
  it("accepts Metaflow's printed client objects", () => {
    expect(parsePathspec("Run('Flow/12')")).toEqual({ flow: "Flow", run: "12", step: null, task: null });
    expect(parsePathspec(' Task("Flow/12/train/345") ')?.task).toBe("345");
  });
  it("opens an artifact's pathspec on its task's artifacts panel, and keeps a pasted URL's view", () => {
    expect(goToLocation("Flow/12/train/345")).toBe("/Flow/12/train/345");
    expect(goToLocation("DataArtifact('Flow/12/train/345/model')")).toBe("/Flow/12/train/345?panel=artifacts&artifact=model");
    expect(goToLocation("Flow/12/train/345/my model")).toBeNull();
    expect(goToLocation("http://localhost:8083/Flow/12/train/345?attempt=1#L3")).toBe("/Flow/12/train/345?attempt=1#L3");
    expect(goToLocation("a/b/c/d/e/f")).toBeNull();
    expect(goToLocation("")).toBeNull();
  });
  it("rejects empty, too deep or spaced input", () => {
    expect(parsePathspec("")).toBeNull();
    expect(parsePathspec("a/b/c/d/e")).toBeNull();
    expect(parsePathspec("a b/c")).toBeNull();
  });
});

describe("time ranges", () => {
  it("resolves presets relative to now", () => {
    const now = 10_000_000_000;
    expect(resolveRange({ ...DEFAULT_RUN_FILTERS, range: "1h" }, now)).toEqual({ after: now - 3_600_000, before: null });
    expect(resolveRange({ ...DEFAULT_RUN_FILTERS, range: "custom", from: 5, to: 9 }, now)).toEqual({ after: 5, before: 9 });
    expect(resolveRange(DEFAULT_RUN_FILTERS, now)).toEqual({ after: null, before: null });
  });
});
