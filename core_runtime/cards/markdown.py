"""A small, safe Markdown subset → HTML. Everything is escaped first; only the constructs below
produce tags, and links are kept only for http(s)/mailto URLs, so user text can never inject
markup or script into a card.

Supported: ATX headings, paragraphs, ``-``/``*``/``1.`` lists, fenced code blocks, ``---`` rules,
``> `` quotes, inline ``code``, **bold**, *italic*, [links](https://…).
"""

from __future__ import annotations

import html
import re

_INLINE_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\*\w])\*(?!\s)(.+?)(?<!\s)\*(?!\*)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_SAFE_URL = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_ORDERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


def _inline(text: str) -> str:
    """Escape, then turn the inline constructs into tags. Code spans are protected first."""
    codes: list[str] = []

    def stash(m: re.Match[str]) -> str:
        codes.append(f"<code>{html.escape(m.group(1))}</code>")
        return f"\x00{len(codes) - 1}\x00"

    text = _INLINE_CODE.sub(stash, text)
    text = html.escape(text)

    def link(m: re.Match[str]) -> str:
        label, url = m.group(1), html.unescape(m.group(2))
        if not _SAFE_URL.match(url):
            return label
        return f'<a href="{html.escape(url)}" rel="noopener noreferrer" target="_blank">{label}</a>'

    text = _LINK.sub(link, text)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    return re.sub("\x00(\\d+)\x00", lambda m: codes[int(m.group(1))], text)


def markdown_to_html(source: str) -> str:
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []
    list_tag = ""
    lines = source.replace("\r\n", "\n").split("\n")

    def end_para() -> None:
        if para:
            out.append("<p>" + _inline(" ".join(para)) + "</p>")
            para.clear()

    def end_list() -> None:
        nonlocal list_tag
        if items:
            out.append(f"<{list_tag}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{list_tag}>")
            items.clear()
        list_tag = ""

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            end_para()
            end_list()
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            out.append("<pre><code>" + html.escape("\n".join(body)) + "</code></pre>")
        elif not stripped:
            end_para()
            end_list()
        elif (m := _HEADING.match(stripped)) is not None:
            end_para()
            end_list()
            level = len(m.group(1))
            out.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
        elif re.fullmatch(r"(-\s*){3,}|(\*\s*){3,}", stripped):
            end_para()
            end_list()
            out.append("<hr>")
        elif (m := _BULLET.match(line)) or (m2 := _ORDERED.match(line)):
            end_para()
            tag = "ul" if m else "ol"
            if list_tag and list_tag != tag:
                end_list()
            list_tag = tag
            items.append(_inline((m or m2).group(1)))  # type: ignore[union-attr]
        elif stripped.startswith(">"):
            end_para()
            end_list()
            out.append("<blockquote>" + _inline(stripped.lstrip(">").strip()) + "</blockquote>")
        else:
            end_list()
            para.append(stripped)
        i += 1
    end_para()
    end_list()
    return "\n".join(out)
