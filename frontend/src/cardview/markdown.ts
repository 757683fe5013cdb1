// Markdown of card components → HTML with nothing active in it: raw HTML in the source is shown
// as text, links keep only http(s)/mailto targets (opened outside the card), and images only
// data: URIs (a remote image would be a request leaving the card, which its CSP blocks anyway).
import { Marked, type Tokens } from "marked";

const SAFE_LINK = /^(https?:|mailto:)/i;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html(token: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(token.text);
    },
    link(this: { parser: { parseInline: (t: Tokens.Generic[]) => string } }, token: Tokens.Link): string {
      const label = this.parser.parseInline(token.tokens);
      if (!SAFE_LINK.test(token.href)) return label;
      return `<a href="${escapeHtml(token.href)}" target="_blank" rel="noopener noreferrer">${label}</a>`;
    },
    image(token: Tokens.Image): string {
      if (/^data:image\/(png|jpe?g|gif|webp);/i.test(token.href)) {
        return `<img src="${escapeHtml(token.href)}" alt="${escapeHtml(token.text)}">`;
      }
      return `<span class="md-image">[image: ${escapeHtml(token.text || token.href)}]</span>`;
    },
  },
});

/** Dedents like Python's textwrap.dedent (Metaflow dedents Markdown text; so do we, for old cards). */
export function dedent(text: string): string {
  const lines = text.split("\n");
  const indents = lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return cut ? lines.map((l) => l.slice(cut)).join("\n") : text;
}

export function markdownToHtml(source: string): string {
  return marked.parse(dedent(source)) as string;
}
