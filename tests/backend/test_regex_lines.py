"""backend/regex_lines.py: which patterns may run once over lines joined by newlines.

Judged by behaviour, not by any interpreter internals: for every pattern it calls safe, matching
the joined lines must find exactly the lines a per-line ``re.search`` finds. The search's own
tests (test_log_search_matching.py) check the same on log chunks.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from backend.api.search import Matcher
from backend.regex_lines import line_safe

SAFE = [
    "abc", "^abc$", r"\d+ *?x", r"\S+", r"\w\b", r"[^\n]", r"[^\x0a]", r"[^\012]", r"[^\u000a\r]", r"[ -~]",
    r"[\t\x0b-\r]x", r"\x0b", r"\0", r"\01", r"\x41", r"\u00e9", r"\N{BULLET}", r"[\N{BULLET}]", "(?i)AbC",
    r"(?P<w>a)(?P=w)", r"(a)\1", r"(a)?(?(1)b|c)", r"(?#a comment (with a paren)x", r"(?x) a  b # a comment [\n",
    r"(?s)(?-s:.)", r"(?-s:.)", "[]a]", r"[^]a\n]", r"[a\]]", r"\.\*\[\(", r"a{2,3}+", r"a*?b??", r"(?>a+)b",
    r"(?<=a)b", r"(?<!\d)b", r"x(?=y)", r"x(?!\S)", r"[\d\w\S]", r"\é", r"\bx\b",
]
UNSAFE = [
    r"\n", r"\x0a", r"\x0A", r"\012", r"\u000a", r"\U0000000a", r"\N{LINE FEED}", r"[\n]", r"[\x0a]",
    r"[\t-\r]", r"[\x00-\x7f]", r"[^\S]", r"[\s]", r"[\D]", r"[^a]", r"\s", r"\W", r"\D", r"\A", r"\Z",
    r"(?s).", r"(?s:.)", r"(?-s:(?s:.))", r"(?-m:^)", r"(?-m:$)", r"(?=\n)", r"(?<!\s)x", "a\nb", "(?x)a\n#\n",
    r"[[a]", r"[!--]", r"[a&&b]", r"[a||b]", r"\q", "[^]a]", r"x(?!\s)", r"\d+\s*?x", r"\B", r"x*\B",
]


@pytest.mark.parametrize("pattern", SAFE)
def test_safe(pattern: str) -> None:
    re.compile(pattern)
    assert line_safe(pattern), pattern


@pytest.mark.parametrize("pattern", UNSAFE)
def test_not_safe(pattern: str) -> None:
    assert not line_safe(pattern), pattern


def test_flags_given_by_the_caller() -> None:
    assert line_safe("a.b") and not line_safe("a.b", re.DOTALL)
    assert not line_safe("a # b\n", re.VERBOSE) and line_safe("a # [\\n", re.VERBOSE)
    assert line_safe("(?i)ab", re.IGNORECASE)


ATOMS = ["a", "b", "1", " ", "\\t", ".", r"\d", r"\w", r"\s", r"\S", r"\W", r"\D", r"\b", r"\B", "^", "$", r"\A",
         r"\Z", "[ab]", "[^a]", r"[^\n]", r"[\s]", r"[\x00-\x1f]", r"\n", r"\x0a", r"\012", "(?s:.)", "(?-m:^)",
         "(?-m:$)", "(?i:a)", r"\r", "[ -~]"]
QUANTIFIERS = ["", "", "", "*", "+", "?", "{0,2}", "*?", "+?", "*+"]


def _pattern(rng: random.Random, depth: int = 0) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        if depth < 2 and rng.random() < 0.2:
            inner = _pattern(rng, depth + 1)
            part = rng.choice(["({})", "(?:{})", "(?={})", "(?!{})", "(?>{})", "(?:{}|b)"]).format(inner)
        else:
            part = rng.choice(ATOMS)
        if part not in ("^", "$", r"\A", r"\Z", r"\b", r"\B", "(?-m:^)", "(?-m:$)"):
            part += rng.choice(QUANTIFIERS)
        parts.append(part)
    lead = rng.choice(["", "", "", "(?s)", "(?m)", "(?x)", "(?i)"])
    return lead + "".join(parts)


def _lines(rng: random.Random) -> list[str]:
    return ["".join(rng.choice("ab1 \t\r") for _ in range(rng.randint(0, 6))) for _ in range(rng.randint(1, 8))]


def test_safe_patterns_find_the_same_lines_joined_as_one_by_one() -> None:
    rng = random.Random(20261205)
    safe = 0
    for _ in range(4000):
        q = _pattern(rng)
        try:
            compiled = re.compile(q)
        except re.error:
            continue
        lines = _lines(rng)
        matcher = Matcher(q, True, False)
        safe += matcher.joined is not None
        want = [i + 1 for i, text in enumerate(lines) if compiled.search(text)]
        chunk = "".join(f"{1_700_000_000_000 + i}\t{text}\n" for i, text in enumerate(lines)).encode()
        got = [n for n, _, _ in matcher.scan(chunk, 1)]
        assert got == want, (q, lines, line_safe(q))
        # lines already parsed (a Metaflow log) go through the same joined or per-line matching
        assert [n for n, _, _ in matcher.scan_lines([(None, text) for text in lines], 1)] == want
    assert safe > 500       # the joined path really ran (~750 of these patterns)


def test_no_interpreter_internals() -> None:
    """The product does not read CPython's private regex parser (its tests may compare with it)."""
    backend = Path(__file__).resolve().parents[2] / "backend"
    for path in backend.rglob("*.py"):
        text = path.read_text()
        assert "re._parser" not in text and "sre_parse" not in text and "sre_constants" not in text, path
