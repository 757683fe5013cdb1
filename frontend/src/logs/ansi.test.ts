import { describe, expect, it } from "vitest";
import { applySgr, parseAnsi, PLAIN, stripAnsi } from "./ansi";

describe("parseAnsi", () => {
  it("passes plain text through as one span", () => {
    const { spans } = parseAnsi("hello world");
    expect(spans).toEqual([{ text: "hello world", style: PLAIN }]);
  });

  it("splits on colour changes and resets", () => {
    const { spans } = parseAnsi("a\x1b[31mred\x1b[0m b");
    expect(spans.map((s) => s.text)).toEqual(["a", "red", " b"]);
    expect(spans[1]!.style.fg).toBe("var(--ansi-1)");
    expect(spans[2]!.style.fg).toBeNull();
  });

  it("handles bold, bright, background, 256 and true colour", () => {
    expect(applySgr(PLAIN, [1, 92]).fg).toBe("var(--ansi-10)");
    expect(applySgr(PLAIN, [1, 92]).bold).toBe(true);
    expect(applySgr(PLAIN, [44]).bg).toBe("var(--ansi-4)");
    expect(applySgr(PLAIN, [38, 5, 196]).fg).toBe("rgb(255,0,0)");
    expect(applySgr(PLAIN, [38, 5, 244]).fg).toBe("rgb(128,128,128)");
    expect(applySgr(PLAIN, [48, 2, 1, 2, 3]).bg).toBe("rgb(1,2,3)");
    expect(applySgr(applySgr(PLAIN, [1, 31]), [22, 39])).toEqual(PLAIN);
  });

  it("treats an empty SGR as reset", () => {
    const { spans } = parseAnsi("\x1b[31mx\x1b[my");
    expect(spans[1]!.style).toEqual(PLAIN);
  });

  it("drops cursor movement and OSC titles", () => {
    expect(stripAnsi("\x1b[2K\x1b[1Gdone\x1b]0;title\x07!")).toBe("done!");
  });

  it("keeps markup as literal text (nothing is HTML)", () => {
    expect(stripAnsi("<img src=x onerror=alert(1)>")).toBe("<img src=x onerror=alert(1)>");
  });

  it("carries style across lines when given the previous end state", () => {
    const first = parseAnsi("\x1b[32mstart");
    const second = parseAnsi("still green", first.end);
    expect(second.spans[0]!.style.fg).toBe("var(--ansi-2)");
  });

  it("shows the last carriage-return segment like a terminal", () => {
    expect(stripAnsi("10%\r50%\r100%")).toBe("100%");
  });

  it("ignores malformed extended colours", () => {
    expect(applySgr(PLAIN, [38]).fg).toBeNull();
  });
});
