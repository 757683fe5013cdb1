import { afterEach, describe, expect, it, vi } from "vitest";
import { QueryClient } from "@tanstack/react-query";
import { fetchRun } from "./runs";
import { earlyRequests } from "./early";

const run = { flow_id: "F", run_id: "7", pathspec: "F/7", status: "running" };
const dag = { start_step: "start", end_step: "end", steps: [{ step_name: "start" }] };

function answering(): string[] {
  const asked: string[] = [];
  vi.stubGlobal("fetch", (url: string) => {
    asked.push(url);
    const body = url.includes("include=") ? { data: run, included: { dag: { data: dag } } } : { data: run };
    return Promise.resolve(new Response(JSON.stringify(body)));
  });
  return asked;
}

describe("the run page's run query", () => {
  afterEach(() => vi.unstubAllGlobals());
  it("asks for the run with its DAG (the early request's URL) and seeds the DAG's query", async () => {
    const asked = answering();
    const client = new QueryClient();
    expect(await fetchRun(client, "F", "7", true)).toEqual(run);
    expect(asked).toEqual(earlyRequests("/F/7", "", ""));
    expect(asked).toEqual(["/api/flows/F/runs/7?include=dag"]);
    expect(client.getQueryData(["dag", "F", "7"])).toEqual(dag);
  });
  it("refetches the run alone once the DAG is cached, and elsewhere always asks for the run alone", async () => {
    const asked = answering();
    const client = new QueryClient();
    client.setQueryData(["dag", "F", "7"], dag);
    await fetchRun(client, "F", "7", true);
    await fetchRun(new QueryClient(), "F", "7", false);
    expect(asked).toEqual(["/api/flows/F/runs/7", "/api/flows/F/runs/7"]);
  });
});
