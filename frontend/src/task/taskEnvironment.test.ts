import { describe, expect, it } from "vitest";
import type { MetadataEntry } from "../api/types";
import { environmentOf } from "./taskEnvironment";

const row = (field_name: string, value: string, type: string | null): MetadataEntry =>
  ({ field_name, value, type, attempt: null, tags: [], created_at: 1 });

describe("environmentOf", () => {
  it("reads the environment field the runtime records", () => {
    const env = "conda: tabulate==0.9.0 · Python 3.11.7 · env 92ad1982d7ec5a55";
    expect(environmentOf([row("runtime", "flowscope", "runtime"), row("environment", env, "environment")])).toBe(env);
  });
  it("is null for a task without one, and ignores same-named fields of other types", () => {
    expect(environmentOf([row("runtime", "flowscope", "runtime")])).toBeNull();
    expect(environmentOf([row("environment", "x", "user")])).toBeNull();
  });
});
