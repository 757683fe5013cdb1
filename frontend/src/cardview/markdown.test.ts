import { describe, expect, it } from "vitest";
import { dedent, markdownToHtml } from "./markdown";

describe("card markdown", () => {
  it("renders headings, emphasis and tables", () => {
    const html = markdownToHtml("# Title\n\nsome **bold** text\n\n| a | b |\n|---|---|\n| 1 | 2 |");
    expect(html).toContain("<h1");
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain("<table>");
  });
  it("shows raw HTML as text", () => {
    const html = markdownToHtml('hi <img src=x onerror="alert(1)"> <script>alert(2)</script>');
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<script");
    expect(html).toContain("&lt;script&gt;");
  });
  it("keeps only safe links and data: images", () => {
    expect(markdownToHtml("[x](javascript:alert(1))")).not.toContain("href");
    expect(markdownToHtml("[x](https://example.org)")).toContain('href="https://example.org"');
    expect(markdownToHtml("![cat](https://example.org/cat.png)")).not.toContain("<img");
    expect(markdownToHtml("![dot](data:image/png;base64,AAAA)")).toContain('<img src="data:image/png;base64,AAAA"');
  });
  it("dedents indented blocks like textwrap.dedent", () => {
    expect(dedent("\n    # A\n    - b\n")).toBe("\n# A\n- b\n");
  });
});
