// A small ANSI SGR parser: text in, styled spans out. The spans are rendered as React text
// nodes (never innerHTML), so a log can colour itself but never inject markup.

export interface AnsiStyle {
  fg: string | null;
  bg: string | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
}

export interface AnsiSpan {
  text: string;
  style: AnsiStyle;
}

export const PLAIN: AnsiStyle = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false };

/** Palette colours are CSS variables so each theme can tune them for contrast. */
const paletteVar = (n: number): string => `var(--ansi-${n})`;

function xterm256(n: number): string {
  if (n < 16) return paletteVar(n);
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const level = (c: number) => (c === 0 ? 0 : 55 + c * 40);
  return `rgb(${level(Math.floor(i / 36))},${level(Math.floor(i / 6) % 6)},${level(i % 6)})`;
}

/** Applies one SGR parameter list (`1;31`, `38;5;208`, `38;2;1;2;3`) to a style. */
export function applySgr(style: AnsiStyle, params: number[]): AnsiStyle {
  const s = { ...style };
  if (params.length === 0) return { ...PLAIN };
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    if (p === 0) Object.assign(s, PLAIN);
    else if (p === 1) s.bold = true;
    else if (p === 2) s.dim = true;
    else if (p === 3) s.italic = true;
    else if (p === 4) s.underline = true;
    else if (p === 7) s.inverse = true;
    else if (p === 22) { s.bold = false; s.dim = false; }
    else if (p === 23) s.italic = false;
    else if (p === 24) s.underline = false;
    else if (p === 27) s.inverse = false;
    else if (p >= 30 && p <= 37) s.fg = paletteVar(p - 30);
    else if (p >= 90 && p <= 97) s.fg = paletteVar(p - 90 + 8);
    else if (p >= 40 && p <= 47) s.bg = paletteVar(p - 40);
    else if (p >= 100 && p <= 107) s.bg = paletteVar(p - 100 + 8);
    else if (p === 39) s.fg = null;
    else if (p === 49) s.bg = null;
    else if (p === 38 || p === 48) {
      const mode = params[i + 1];
      let colour: string;
      if (mode === 5 && params[i + 2] !== undefined) {
        colour = xterm256(Math.min(255, params[i + 2]!));
        i += 2;
      } else if (mode === 2 && params[i + 4] !== undefined) {
        const [r, g, b] = [params[i + 2]!, params[i + 3]!, params[i + 4]!].map((v) => Math.min(255, v));
        colour = `rgb(${r},${g},${b})`;
        i += 4;
      } else {
        break;
      }
      if (p === 38) s.fg = colour; else s.bg = colour;
    }
  }
  return s;
}

// CSI sequences (ESC [ params final), OSC sequences (ESC ] ... BEL or ESC \), and lone two-byte escapes.
// eslint-disable-next-line no-control-regex -- matching terminal escapes is the point
const ESCAPE = /\x1b\[([0-9;:?]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** Splits a line into styled spans; non-SGR escapes (cursor moves, titles) are dropped. */
export function parseAnsi(line: string, initial: AnsiStyle = PLAIN): { spans: AnsiSpan[]; end: AnsiStyle } {
  const spans: AnsiSpan[] = [];
  let style = initial;
  let last = 0;
  const push = (text: string) => {
    if (!text) return;
    const prev = spans[spans.length - 1];
    if (prev && prev.style === style) prev.text += text;
    else spans.push({ text, style });
  };
  for (const m of line.matchAll(ESCAPE)) {
    push(line.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[2] === "m") {
      const params = (m[1] ?? "").split(/[;:]/).filter((x) => x !== "").map(Number).filter((n) => Number.isFinite(n));
      style = applySgr(style, params);
    }
  }
  push(line.slice(last));
  // Carriage returns rewrite a line in a terminal (progress bars); show what the terminal would end with.
  return { spans: spans.map((sp) => ({ ...sp, text: sp.text.includes("\r") ? sp.text.slice(sp.text.lastIndexOf("\r") + 1) : sp.text })), end: style };
}

export function stripAnsi(line: string): string {
  return parseAnsi(line).spans.map((s) => s.text).join("");
}

export function isPlain(style: AnsiStyle): boolean {
  return !style.fg && !style.bg && !style.bold && !style.dim && !style.italic && !style.underline && !style.inverse;
}
