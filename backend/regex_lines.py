"""Whether a regular expression can be run once over many lines joined by newlines.

The run-wide log search (backend/api/search.py) matches a regex per line. Running it once over a
chunk's lines joined by ``\\n`` (with MULTILINE, so ``^``/``$`` mean line start/end) finds the
same lines, much faster, as long as no match can involve a newline: ``line_safe`` says when.

This reads the pattern's text by the documented syntax of Python's ``re`` module (no interpreter
internals: nothing here changes with a Python upgrade) and is conservative by construction: a
pattern is safe only when every token in it is on a list of tokens known never to match a
newline, or to mean the same per line and joined. Anything else (an escape it does not know, a
group form it does not know, a literal newline, a character set that might be nested) makes the
pattern "not safe", which only means the slower line-by-line matching, never a different answer.
The pattern must already have compiled (``re.compile``): invalid syntax is not diagnosed here.
"""

from __future__ import annotations

import re
import unicodedata

NL = 10
_FLAG_LETTERS = "aiLmsux"
# \b means the same per line and joined (a newline is not a word character, nor is a line's
# edge), \B does not: it never matches an empty line alone (before Python 3.14) but does between
# two newlines. So \B is not on the list.
_SAFE_ESCAPES = set("bdwS" "rtfva")      # a word boundary, classes without \n, control chars other than \n
_UNSAFE_ESCAPES = set("AZDWsnB")         # \A \Z (whole string), classes with \n, \n itself, \B
_SET_OPERATORS = ("--", "&&", "~~", "||")  # reserved for future set operations (FutureWarning today)


class _Unsafe(Exception):
    """The pattern may match across a newline (or we cannot tell)."""


class _Scanner:
    def __init__(self, pattern: str, flags: int) -> None:
        self.p = pattern
        self.i = 0
        self.dotall = bool(flags & re.DOTALL)
        self.multiline = True   # the joined pattern is compiled with MULTILINE
        self.verbose = bool(flags & re.VERBOSE)
        self.scopes: list[tuple[bool, bool, bool]] = []

    # -- helpers -------------------------------------------------------------------------------
    def _peek(self, n: int = 0) -> str:
        j = self.i + n
        return self.p[j] if j < len(self.p) else ""

    def _take_until(self, end: str) -> str:
        j = self.p.find(end, self.i)
        if j < 0:
            raise _Unsafe
        text = self.p[self.i:j]
        self.i = j + len(end)
        return text

    def _hex(self, digits: int) -> int:
        text = self.p[self.i:self.i + digits]
        if len(text) != digits or any(c not in "0123456789abcdefABCDEF" for c in text):
            raise _Unsafe
        self.i += digits
        return int(text, 16)

    def _escape_value(self, c: str) -> int | None:
        """The code point an escape of one character stands for (after the backslash and ``c``,
        already consumed), None for escapes that are not one character."""
        if c == "x":
            return self._hex(2)
        if c == "u":
            return self._hex(4)
        if c == "U":
            return self._hex(8)
        if c == "N":
            if self._peek() != "{":
                raise _Unsafe
            self.i += 1
            try:
                return ord(unicodedata.lookup(self._take_until("}")))
            except (KeyError, TypeError):
                raise _Unsafe from None
        if c == "0":
            digits = c
            while len(digits) < 3 and self._peek() in tuple("01234567"):
                digits += self._peek()
                self.i += 1
            return int(digits, 8)
        return None

    # -- the pattern ---------------------------------------------------------------------------
    def check(self) -> None:
        if "\n" in self.p:
            raise _Unsafe      # a literal newline (or verbose whitespace we would rather not judge)
        while self.i < len(self.p):
            c = self.p[self.i]
            self.i += 1
            if c == "\\":
                self._escape()
            elif c == "[":
                self._set()
            elif c == "(":
                self._open()
            elif c == ")":
                if not self.scopes:
                    raise _Unsafe
                self.dotall, self.multiline, self.verbose = self.scopes.pop()
            elif c == ".":
                if self.dotall:
                    raise _Unsafe
            elif c in "^$":
                if not self.multiline:
                    raise _Unsafe   # the whole joined string's start/end, not each line's
            elif c == "#" and self.verbose:
                return              # a comment to the end of the line: the rest of the pattern
            # Anything else is a literal or a quantifier (*, +, ?, {m,n}, lazy or possessive)
            # or |: none of them can match a newline.

    def _escape(self) -> None:
        c = self._peek()
        if not c:
            raise _Unsafe
        self.i += 1
        if c in _UNSAFE_ESCAPES:
            raise _Unsafe
        if c in _SAFE_ESCAPES or c in "123456789":
            # 1-9: a backreference (what its group matched: checked there) or an octal escape
            # of three digits, >= 0o100, never a newline; the digits after it are literals.
            return
        value = self._escape_value(c)
        if value is not None:
            if value == NL:
                raise _Unsafe
            return
        if c.isascii() and c.isalnum():
            raise _Unsafe      # an escape this does not know
        # An escaped punctuation or non-ASCII character: itself.

    def _set(self) -> None:
        """A character set [...]: unsafe when it can match a newline."""
        negated = self._peek() == "^"
        if negated:
            self.i += 1
        has_nl = False
        first = True
        while True:
            c = self._peek()
            if not c:
                raise _Unsafe
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if c == "[" or self.p.startswith(_SET_OPERATORS, self.i):
                raise _Unsafe  # a possible nested set or set operation: not judged
            lo, category_nl = self._set_item()
            if lo is None:
                has_nl = has_nl or category_nl
                continue
            if self.p.startswith(_SET_OPERATORS, self.i):
                raise _Unsafe
            if self._peek() == "-" and self._peek(1) not in ("]", ""):
                self.i += 1
                hi, _ = self._set_item()
                if hi is None:
                    raise _Unsafe
                has_nl = has_nl or lo <= NL <= hi
            else:
                has_nl = has_nl or lo == NL
        if has_nl != negated:
            raise _Unsafe

    def _set_item(self) -> tuple[int | None, bool]:
        """(code point, False) for one character of a set, or (None, whether the category
        escape matches a newline) for \\d \\D \\s \\S \\w \\W."""
        c = self.p[self.i]
        self.i += 1
        if c != "\\":
            return ord(c), False
        e = self._peek()
        if not e:
            raise _Unsafe
        self.i += 1
        if e in "dwS":
            return None, False
        if e in "DWs":
            return None, True
        simple = {"n": NL, "r": 13, "t": 9, "f": 12, "v": 11, "a": 7, "b": 8}
        if e in simple:
            return simple[e], False
        value = self._escape_value(e)
        if value is not None:
            return value, False
        if e.isascii() and e.isalnum():
            raise _Unsafe      # octal digits, unknown letters: not judged
        return ord(e), False

    def _open(self) -> None:
        """After ``(``: push a scope (with its flags) or skip a comment or a backreference."""
        scope = (self.dotall, self.multiline, self.verbose)
        if self._peek() != "?":
            self.scopes.append(scope)          # a capturing group
            return
        self.i += 1
        c = self._peek()
        if c == "#":
            self._take_until(")")              # (?#comment)
            return
        if c == "P":
            if self._peek(1) == "<":           # (?P<name>...)
                self.i += 2
                self._take_until(">")
                self.scopes.append(scope)
                return
            if self._peek(1) == "=":           # (?P=name): a backreference
                self.i += 2
                self._take_until(")")
                return
            raise _Unsafe
        if c in (":", "=", "!", ">"):          # (?:...) (?=...) (?!...) (?>...)
            self.i += 1
            self.scopes.append(scope)
            return
        if c == "<" and self._peek(1) in ("=", "!"):   # lookbehinds
            self.i += 2
            self.scopes.append(scope)
            return
        if c == "(":                           # (?(id/name)yes|no)
            self.i += 1
            self._take_until(")")
            self.scopes.append(scope)
            return
        self._flags(scope)

    def _flags(self, scope: tuple[bool, bool, bool]) -> None:
        """(?imsx-imsx:...) scoped, or (?imsx) for the whole pattern (only allowed at its start)."""
        on, off, minus = "", "", False
        while True:
            c = self._peek()
            self.i += 1
            if c == "-":
                minus = True
            elif c and c in _FLAG_LETTERS:
                if minus:
                    off += c
                else:
                    on += c
            elif c == ":":
                self.scopes.append(scope)
                break
            elif c == ")":
                if minus:
                    raise _Unsafe
                break
            else:
                raise _Unsafe
        if "s" in on:
            self.dotall = True
        if "s" in off:
            self.dotall = False
        if "m" in off:
            self.multiline = False
        if "x" in on:
            self.verbose = True
        if "x" in off:
            self.verbose = False


def line_safe(pattern: str, flags: int = 0) -> bool:
    """True when ``pattern`` (compiled with ``flags``) run once over lines joined by ``\\n`` with
    MULTILINE finds exactly the lines that a search of each line alone finds."""
    try:
        _Scanner(pattern, flags).check()
    except _Unsafe:
        return False
    return True
