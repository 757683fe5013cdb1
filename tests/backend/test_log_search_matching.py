"""The search's chunk matchers give exactly the lines that per-line matching gives.

The matchers (backend/api/search.py) work on whole chunks: a raw-bytes test, one find or one regex
run over the chunk, then parsing only the matching records. The reference (log_search_helpers) is the per-line
matching the search did before (every record parsed, then ``q in text`` / ``q.lower() in
text.lower()`` / ``re.search(q, text)``), and must agree on tricky content: case (ß, İ, final
sigma, the Kelvin sign), invalid UTF-8, tabs in the text, needles that would only match across the
``<epoch_ms>\\t`` prefix, malformed records, lines at chunk edges, and regex anchors.
"""

from __future__ import annotations

import random
import re

import pytest

from backend.api.search import Matcher, line_safe
from contract.logs_format import parse_chunk
from tests.backend.log_search_helpers import CHUNK_A, CHUNK_B, CHUNKS, reference

PLAIN = ["ERROR", "error", "Error", "1\tStart", "7\tStart", "Start", "\tinside", "00\t", "0\t",
         "1700000000010", "17000000000", "1700000000011", "straße", "STRASSE", "ß", "ss", "İ", "i̇", "ı",
         "i", "σ", "ς", "Σ", "οδοσ", "οδος", "k", "\u212a", "K", "\ufffd", "\xff", "\r", "return",
         "\U0001f680", "日本", "\n", "a\nb", "12a\tnot", "١٢٣\tarabic", "arabic", "\u00b9\tsuper",
         "abc", "x", " ", "\t", "\t1\tSTART", "1\tSTART", "\ud800", "edge", "chunk", "ERROR\n"]

REGEX = ["^abc", "abc$", "^abc$", "^$", "^", "$", r"^\d+\t", r"\d{13}", r"^\d", r"\Aabc", r"abc\Z",
         r"(?s)a.c", r"[^x]abc", r"x?abc", r"\sERROR", r"ERROR\s", r"\S+$", r"(?<=x)abc", r"(?<!x)abc",
         r"\babc\b", r"(?m)^abc", r"(?-m:^)abc", r"(?-m:abc$)", r"x*", r"(x)?(?(1)abc|abcx)", r"(?i)straße",
         "σ", "ς", "[\\n]", "\\n", ".*", r"\W\W", r"[^\t]*text", r"(?x) a b c", r"a|^$", r"^(?:abc|xabc)$",
         r"(?>ab)c", r"ab*+c", r"\r", r"[\r\n]", r".\Z", r"\w+\Z", r"ERROR$", r"^ERROR", r"^[A-Z]+\b",
         r"\Bbc", r"^\t", r"\t", r"^.{0,3}$", r"(?=abc)", r"(?!.)", r"(?![a-z])$", r"[\x00-\x1f]",
         r"[^\x0a]+", r"(?i)ΣΑ", r"(?i)k\b", r"\d+\t[A-Z]", r"digits in", r"\Z", r"\A"]


@pytest.mark.parametrize("ignore_case", [False, True])
@pytest.mark.parametrize(("q", "regex"), [(q, False) for q in PLAIN] + [(q, True) for q in REGEX])
def test_matches_equal_per_line_matching(q: str, regex: bool, ignore_case: bool) -> None:
    matcher = Matcher(q, regex, ignore_case)
    for data, first in CHUNKS:
        assert matcher.scan(data, first) == reference(data, first, q, regex, ignore_case), (q, first)


def test_the_tricky_cases_do_what_they_should() -> None:
    """Spot checks that the content above really is tricky (not just equal to the reference)."""
    def lines(q: str, regex: bool = False, ignore_case: bool = False) -> list[int]:
        m = Matcher(q, regex, ignore_case)
        return [n for data, first in CHUNKS for n, _, _ in m.scan(data, first)]

    assert lines("1\tStart") == []                       # only across the prefix of line 1
    assert lines("1\tSTART") == [26]                     # a digit-tab inside the text is text
    assert lines("1700000000010") == [10]                # in the prefix and in the text: the text
    assert lines("17000000000") == [10, 11]              # a malformed record's text is all of it
    assert lines("12a\tnot") == [13] and lines("\u00b9\tsuper") == [15]
    assert lines("١٢٣\tarabic") == [] and Matcher("arabic", False, False).scan(CHUNK_A, 1)[0][1] == 123
    assert lines("ERROR") == [1, 20, 21, 27] and lines("error", ignore_case=True) == [1, 2, 3, 20, 21, 27]
    assert lines("kelvin k", ignore_case=True) == [7] and lines("kelvin k") == []   # the Kelvin sign lowers to k
    assert lines("\ufffd") == [17, 25]                   # invalid UTF-8 is U+FFFD, like the written one
    assert lines("\n") == [] and lines("\n", regex=True) == []
    assert lines("^abc", regex=True) == [19, 24] and lines("abc$", regex=True) == [19, 23]
    assert lines(r"\Aabc", regex=True) == [19, 24] and lines(r"^\d+\t", regex=True) == [26]
    assert lines("^$", regex=True) == [8, 22, 28]
    assert lines(r"(?<=x)abc", regex=True) == [23]


def test_which_patterns_run_over_the_whole_chunk() -> None:
    for q in ["^abc", "abc$", r"\d{13}", r"(?<=x)abc", r"\babc\b", r"[^\n]+", r"\S+$", ".*", r"(?m)^a",
              r"(?x) a b", r"(a)(?(1)b|c)", r"(?>ab)c", r"ab*+c", "(?i)straße"]:
        assert line_safe(q, 0), q
    for q in [r"\Aabc", r"abc\Z", r"(?s)a.c", r"(?s:.)", r"[^x]abc", r"\sERROR", r"(?-m:^)abc", "[\\n]", "\\n",
              r"\W", r"\D", "[\x00-\x1f]", r"[^a]"]:
        assert not line_safe(q, 0), q


def test_a_chunk_without_the_needle_is_rejected_unparsed() -> None:
    assert Matcher("zebra", False, False).rejects(CHUNK_A)
    assert not Matcher("ERROR", False, False).rejects(CHUNK_A)
    # Case-insensitive, regex and U+FFFD needles cannot be decided on the raw bytes: scanned.
    assert not Matcher("zebra", False, True).rejects(CHUNK_A)
    assert not Matcher("zebra", True, False).rejects(CHUNK_A)
    assert not Matcher("\ufffd", False, False).rejects(CHUNK_B)


ALPHABET = ["a", "b", "c", "A", "B", "ß", "S", "s", "Σ", "σ", "ς", "İ", "i", "I", "ı", "\u212a", "k", "K",
            "\t", "0", "1", "9", " ", "é", "É", "\r", "-", "٣", "\u00b9"]


def _random_chunk(rng: random.Random) -> bytes:
    out = []
    for _ in range(rng.randint(0, 25)):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))
        kind = rng.random()
        if kind < 0.7:
            out.append(f"{rng.randint(0, 10**13)}\t{text}")
        elif kind < 0.8:
            out.append(f"{rng.choice(['', '1a', '٣٣', '12 '])}\t{text}")
        else:
            out.append(text)
    data = "\n".join(out).encode()
    if rng.random() < 0.8:
        data += b"\n"
    if rng.random() < 0.1:
        data += b"\xff"
    return data


def _random_pattern(rng: random.Random, chunk: str) -> str:
    lit = re.escape(chunk[(i := rng.randrange(len(chunk) + 1)):i + rng.randint(1, 3)] or "a")
    return rng.choice([
        lit, f"^{lit}", f"{lit}$", f"^{lit}$", f"{lit}.*", f".{lit}", f"[^a]{lit}", f"\\b{lit}", f"{lit}\\B",
        f"(?<=\\d){lit}", f"(?<![a-z]){lit}", f"{lit}(?=\\s)", f"\\s{lit}", f"{lit}|^$", f"(?s){lit}.",
        f"\\A{lit}", f"{lit}\\Z", f"[{lit}]+", f"{lit}\\d*$", f"^\\d+\\t{lit}", f"(?:{lit})+\\S",
    ])


def test_random_chunks_and_needles_match_like_per_line() -> None:
    rng = random.Random(20261123)
    for _ in range(1500):
        data = _random_chunk(rng)
        text = data.decode("utf-8", "replace")
        ignore_case = rng.random() < 0.5
        if rng.random() < 0.5:
            # Any piece of the raw chunk, so needles cross prefixes, tabs and line ends.
            i = rng.randrange(len(text) + 1)
            q = text[i:i + rng.randint(1, 6)] or rng.choice(ALPHABET)
            regex = False
        else:
            q, regex = _random_pattern(rng, text), True
        first = rng.randint(1, 10**6)
        got = Matcher(q, regex, ignore_case).scan(data, first)
        assert got == reference(data, first, q, regex, ignore_case), (data, q, regex, ignore_case)


def test_parse_chunk_takes_only_decimal_digits_as_a_timestamp() -> None:
    # A superscript is a digit to str.isdigit but not to int(): such a record is malformed (it
    # used to raise ValueError and fail the whole page).
    assert parse_chunk("\u00b9\tx\n٣\ty\n5\tz".encode(), 7) == [(7, None, "\u00b9\tx"), (8, 3, "y"), (9, 5, "z")]
    assert parse_chunk(b"", 1) == [] and parse_chunk(b"\n", 1) == [(1, None, "")]


def test_a_timestamp_int_cannot_read_is_no_timestamp() -> None:
    # int() refuses more than 4300 digits: such a prefix used to fail the page; now the record
    # is malformed, for the pages and the search alike.
    ok, long = "7" * 4300, "7" * 4301
    data = f"{ok}\tfine\n{long}\ttoo long\n".encode()
    assert parse_chunk(data, 1) == [(1, int(ok), "fine"), (2, None, f"{long}\ttoo long")]
    for q, regex in [("7\tf", False), ("7\tt", False), ("^7", True), ("^fine$", True), (r"\d\tt", True)]:
        assert Matcher(q, regex, False).scan(data, 1) == reference(data, 1, q, regex, False), q
    assert [n for n, _, _ in Matcher("7\tt", False, False).scan(data, 1)] == [2]
