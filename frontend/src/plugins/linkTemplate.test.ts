import { describe, expect, it } from "vitest";
import type { Run, Task } from "../api/types";
import { fillTemplate, placeholderValue } from "./linkTemplate";

const run = {
  flow_id: "TrainFlow", run_id: "12", pathspec: "TrainFlow/12", user: "ana maría", parameters: { lr: 0.1, name: "a&b" },
} as unknown as Run;
const task = {
  flow_id: "TrainFlow", run_id: "12", step_name: "train", task_id: "345", pathspec: "TrainFlow/12/train/345", status: "failed",
} as unknown as Task;
const metadata = [
  { field_name: "container_id", value: "old", type: null, attempt: null, tags: [], created_at: null },
  { field_name: "container_id", value: "c/1?x=2#frag", type: null, attempt: null, tags: [], created_at: null },
];

describe("fillTemplate", () => {
  it("fills pathspec parts, fields, parameters and metadata, URL-encoding every value", () => {
    const filled = fillTemplate(
      "https://logs.example.com/{flow}/{run}/{step}/{task}?c={task.metadata.container_id}&u={run.user}&p={run.parameters.name}&s={task.status}",
      { run, task, metadata },
    );
    expect(filled).toEqual({
      url: "https://logs.example.com/TrainFlow/12/train/345?c=c%2F1%3Fx%3D2%23frag&u=ana%20mar%C3%ADa&p=a%26b&s=failed",
      missing: [],
    });
  });

  it("encodes a pathspec as one value (its slashes cannot add path segments)", () => {
    expect(fillTemplate("https://x/?q={pathspec}", { run, task }).url).toBe("https://x/?q=TrainFlow%2F12%2Ftrain%2F345");
  });

  it("reports missing values instead of building a half-filled URL", () => {
    expect(fillTemplate("https://x/?c={task.metadata.container_id}&t={task}", { run })).toEqual({
      url: null, missing: ["task.metadata.container_id", "task"],
    });
    expect(fillTemplate("https://x/{run.parameters.nope}", { run }).missing).toEqual(["run.parameters.nope"]);
    expect(placeholderValue("run.user", { run: { ...run, user: "" } })).toBeNull();
  });

  it("never produces a non-http URL", () => {
    expect(fillTemplate("{run.user}", { run: { ...run, user: "javascript:alert(1)" } }).url).toBeNull();
  });

  it("uses the run's values on a run page and numbers as text", () => {
    expect(fillTemplate("https://x/{pathspec}?lr={run.parameters.lr}", { run }).url).toBe("https://x/TrainFlow%2F12?lr=0.1");
  });
});
