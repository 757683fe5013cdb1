import { afterEach, describe, expect, it } from "vitest";
import { EARLY_MAX_AGE_MS, apiUrl, startEarly, takeEarly } from "./client";
import { earlyRequests } from "./early";
import { logPageUrl, runPageUrl, taskPath } from "./paths";
import { PAGE, pageQuery } from "../logs/logWindow";

const ref = { flow: "Mega Flow", run: "1", step: "start", task: "7689126" };

describe("early requests of a deep link", () => {
  it("a run page asks for its run with the DAG included, as the run page's useRun does", () => {
    expect(earlyRequests("/MegaSweepFlow/1", "?tab=dag", "")).toEqual([runPageUrl("MegaSweepFlow", "1")]);
    expect(earlyRequests("/MegaSweepFlow/1", "", "")).toEqual(["/api/flows/MegaSweepFlow/runs/1?include=dag"]);
    expect(earlyRequests("/MegaSweepFlow/1/train", "", "")).toEqual(["/api/flows/MegaSweepFlow/runs/1?include=dag"]);
    expect(earlyRequests("/Mega%20Flow/7", "?tab=search", "")).toEqual(["/api/flows/Mega%20Flow/runs/7?include=dag"]);
  });
  it("a task page asks for the task and the log's tail (latest attempt), as TaskPage and useLogLines do", () => {
    expect(earlyRequests("/Mega%20Flow/1/start/7689126", "", "")).toEqual([
      apiUrl(taskPath(ref)),
      logPageUrl(ref, "stdout", null, { tail: PAGE }),
    ]);
    expect(earlyRequests("/Mega%20Flow/1/start/7689126", "", "")[1]).toBe("/api/flows/Mega%20Flow/runs/1/steps/start/tasks/7689126/logs/stdout?tail=1000");
  });
  it("a permalink also asks for its line's page; stream and attempt come from the URL", () => {
    const urls = earlyRequests("/Mega%20Flow/1/start/7689126", "?attempt=2&stream=stderr", "#L900000-900010");
    expect(urls).toEqual([
      apiUrl(taskPath(ref)),
      logPageUrl(ref, "stderr", 2, { tail: PAGE }),
      logPageUrl(ref, "stderr", 2, pageQuery(899)),
    ]);
    expect(urls[2]).toContain("attempt=2&from_line=899001&limit=1000");
  });
  it("other panels, lists and the app's own pages ask for nothing early", () => {
    expect(earlyRequests("/F/1/s/2", "?panel=artifacts", "")).toEqual([apiUrl(taskPath({ flow: "F", run: "1", step: "s", task: "2" }))]);
    expect(earlyRequests("/", "", "")).toEqual([]);
    expect(earlyRequests("/MegaSweepFlow", "", "")).toEqual([]);
    expect(earlyRequests("/-/plugins", "", "")).toEqual([]);
    expect(earlyRequests("/-/compare", "?a=F/1&b=F/2", "")).toEqual([]);
  });
});

describe("early responses", () => {
  afterEach(() => { while (takeEarly("/api/x") || takeEarly("/api/y")); });
  const ok = () => Promise.resolve(new Response("{}"));
  it("are taken once", async () => {
    const asked: string[] = [];
    startEarly(["/api/x"], 1000, (u) => { asked.push(u); return ok(); });
    expect(asked).toEqual(["/api/x"]);
    const r = takeEarly("/api/x", 1500);
    expect(r).toBeDefined();
    expect(await (await r!).text()).toBe("{}");
    expect(takeEarly("/api/x", 1500)).toBeUndefined();
    expect(takeEarly("/api/y", 1500)).toBeUndefined();
  });
  it("are dropped when stale", () => {
    startEarly(["/api/y"], 1000, ok);
    expect(takeEarly("/api/y", 1000 + EARLY_MAX_AGE_MS + 1)).toBeUndefined();
    expect(takeEarly("/api/y", 1000)).toBeUndefined();
  });
  it("a failed early request that nobody takes is not an unhandled rejection", async () => {
    startEarly(["/api/y"], 1000, () => Promise.reject(new TypeError("offline")));
    await new Promise((r) => setTimeout(r, 0));
    await expect(takeEarly("/api/y", 1000)).rejects.toThrow("offline");
  });
});
