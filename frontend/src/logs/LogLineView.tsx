import { memo, type ReactNode } from "react";
import type { LogLine } from "../api/types";
import { formatClock } from "../ui/format";
import { parseAnsi, type AnsiStyle } from "./ansi";

function styleOf(s: AnsiStyle): React.CSSProperties | undefined {
  if (!s.fg && !s.bg && !s.inverse) return undefined;
  const fg = s.inverse ? s.bg ?? "var(--bg-sunken)" : s.fg ?? undefined;
  const bg = s.inverse ? s.fg ?? "var(--text)" : s.bg ?? undefined;
  return { color: fg, backgroundColor: bg };
}

function classOf(s: AnsiStyle): string | undefined {
  const c = [s.bold && "ansi-b", s.dim && "ansi-d", s.italic && "ansi-i", s.underline && "ansi-u"].filter(Boolean).join(" ");
  return c || undefined;
}

/** Wraps case-insensitive occurrences of `needle` in <mark>, as text nodes only. */
function highlight(text: string, needle: string, current: boolean): ReactNode {
  if (!needle) return text;
  const lower = text.toLowerCase();
  const n = needle.toLowerCase();
  const out: ReactNode[] = [];
  let i = 0;
  let k = 0;
  for (let j = lower.indexOf(n); j >= 0; j = lower.indexOf(n, j + n.length)) {
    out.push(text.slice(i, j));
    out.push(<mark key={k++} className={current ? "current" : undefined}>{text.slice(j, j + n.length)}</mark>);
    i = j + n.length;
  }
  if (!out.length) return text;
  out.push(text.slice(i));
  return out;
}

export const LogLineView = memo(function LogLineView({ line, number, timestamps, needle, current, onNumber }: {
  line: LogLine | undefined; number: number; timestamps: boolean; needle: string; current: boolean;
  onNumber: (n: number, extend: boolean) => void;
}) {
  const spans = line ? parseAnsi(line.text).spans : [];
  return (
    <>
      <a className="log-no" href={`#L${number}`} id={`L${number}`}
        onClick={(e) => { e.preventDefault(); onNumber(number, e.shiftKey); }}>{number}</a>
      {timestamps && <span className="log-ts">{line?.ts ? formatClock(line.ts, true) : ""}</span>}
      <span className="log-text">
        {line ? spans.map((s, i) => (
          <span key={i} style={styleOf(s.style)} className={classOf(s.style)}>{highlight(s.text, needle, current)}</span>
        )) : <span className="faint">…</span>}
      </span>
    </>
  );
});
