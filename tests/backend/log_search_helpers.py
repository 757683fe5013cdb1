"""Shared by the log search tests: the per-line reference matcher and tricky log chunks."""

from __future__ import annotations

import re

Hit = tuple[int, int | None, str]


def reference(data: bytes, first_line: int, q: str, regex: bool, ignore_case: bool) -> list[Hit]:
    """The old per-line search: parse every record, run the matcher on its text."""
    if regex:
        pattern = re.compile(q, re.IGNORECASE if ignore_case else 0)
        def match(line: str) -> bool:
            return pattern.search(line) is not None
    elif ignore_case:
        def match(line: str) -> bool:
            return q.lower() in line.lower()
    else:
        def match(line: str) -> bool:
            return q in line
    out: list[Hit] = []
    if not data:
        return out
    text = data.decode("utf-8", errors="replace").removesuffix("\n")
    for i, record in enumerate(text.split("\n")):
        ts_text, sep, line = record.partition("\t")
        ts: int | None
        if sep and ts_text.isdecimal() and len(ts_text) <= 4300:   # int() takes at most 4300 digits
            ts = int(ts_text)
        else:
            ts, line = None, record
        if match(line):
            out.append((first_line + i, ts, line))
    return out


def records(*lines: str | bytes) -> bytes:
    return b"".join((ln if isinstance(ln, bytes) else ln.encode()) + b"\n" for ln in lines)


CHUNK_A = records(
    "1700000000001\tStart of chunk: ERROR at the edge",
    "1700000000002\terror lower",
    "1700000000003\tError Mixed",
    "1700000000004\tStraße groß STRASSE",
    "1700000000005\tİstanbul ıi I",
    "1700000000006\tΟΔΟΣ οδος Σ ΣΑ",
    "1700000000007\tkelvin \u212a sign",
    "1700000000008\t",
    "1700000000009\ttab\tinside\ttext",
    "1700000000010\t1700000000010 digits in text",
    "no prefix at all 1700000000011",
    "\tleading tab",
    "12a\tnot a timestamp",
    "١٢٣\tarabic-indic digits are a timestamp",
    "\u00b9\tsuperscript one is not a decimal digit",
    "1700000000013\tcarriage\rreturn",
    b"1700000000014\tinvalid \xff\xfe bytes \xe2\x82",
    "1700000000015\temoji \U0001f680 and CJK 日本語",
    "1700000000016\tabc",
    "1700000000017\tend of chunk: ERROR",
)
CHUNK_B = (records(
    "1700000000018\tERROR first line of chunk B",
    "",
    "1700000000019\txabc",
    "1700000000020\tabcx",
    "1700000000021\t\ufffd replacement char written as such",
    "1700000000022\t1\tSTART digits and a tab in the text",
) + b"1700000000023\tlast line without a newline ERROR")
CHUNKS = [(CHUNK_A, 1), (CHUNK_B, 21), (b"\n", 28), (b"", 29)]
