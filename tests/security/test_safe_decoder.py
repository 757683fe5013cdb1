"""The safe decoder (backend/sandbox/safe_pickle.py) and the bounded renderer (backend/sandbox/render.py).

Common artifact values are read in the server without the sandbox; nothing a pickle says can
run code, grow past its own size, or change a class the server uses.
"""

from __future__ import annotations

import datetime
import decimal
import fractions
import json
import pickle
import uuid
from collections import Counter, OrderedDict, defaultdict, deque

import pytest

from backend.sandbox.render import render, text_of
from backend.sandbox.safe_pickle import RestrictedValueError, restricted_loads, to_json_value

COMMON = [
    42, -3.5, "text", b"bytes", None, True, [1, [2, 3]], (1, "a"), {"k": {"n": [1.5]}}, {1, 2},
    frozenset({"x"}), bytearray(b"ab"), 3 + 4j, 10**40,
    datetime.datetime(2026, 12, 5, 4, 0, tzinfo=datetime.UTC), datetime.date(2026, 1, 2),
    datetime.timedelta(seconds=90), decimal.Decimal("1.10"), fractions.Fraction(1, 3),
    uuid.UUID("12345678-1234-5678-1234-567812345678"), OrderedDict(a=1), defaultdict(list, {"a": [1]}),
    deque([1, 2], maxlen=5), Counter("abca"),
]


@pytest.mark.parametrize("protocol", [2, 4, 5])
@pytest.mark.parametrize("value", COMMON, ids=lambda v: type(v).__name__)
def test_common_values_decode_without_the_sandbox(value: object, protocol: int) -> None:
    decoded = restricted_loads(pickle.dumps(value, protocol=protocol))
    assert decoded == value
    shown = render(decoded, 1000)
    assert shown["type"] == render(value, 1000)["type"]
    assert shown["text"] == render(value, 1000)["text"]


class Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("pwned",))


@pytest.mark.parametrize("data", [
    pickle.dumps(Evil(), protocol=4),
    b"cos\nsystem\n(S'id'\ntR.",                                # os.system
    b"cbuiltins\nbytearray\n(I20000000000\ntR.",                # 20 GB from 30 bytes
    b"cbuiltins\nbytes\n(I20000000000\ntR.",
    b"c_codecs\nencode\n(S'x'\nS'zlib_codec'\ntR.",             # only latin-1 is how bytes are spelled
    b"cbuiltins\ngetattr\n(cbuiltins\nlist\nS'__mul__'\ntR.",
    b"\x80\x04P0\n.",                                           # persistent id
    b"not a pickle",
], ids=["reduce", "os.system", "bytearray-size", "bytes-size", "codec", "getattr", "persid", "garbage"])
def test_anything_else_is_refused(data: bytes) -> None:
    with pytest.raises(RestrictedValueError):
        restricted_loads(data)


@pytest.mark.parametrize("module,name,sample", [("collections", "Counter", "abca"), ("fractions", "Fraction", 3)])
def test_a_pickle_cannot_change_a_class_the_server_uses(module: str, name: str, sample: object) -> None:
    # GLOBAL module.name; BUILD (None, {"__repr__": "poisoned"}): sets a class attribute (setattr).
    poison = (b"\x80\x04" + pickle.dumps(module, protocol=4)[2:-1] + b"\x94" + pickle.dumps(name, protocol=4)[2:-1]
              + b"\x94\x93\x94N}\x94\x8c\x08__repr__\x94\x8c\x08poisoned\x94s\x86\x94b.")
    real = getattr(__import__(module), name)
    made = restricted_loads(poison)
    assert made is not real and issubclass(made, real) and made.__repr__ == "poisoned"
    assert vars(real).get("__repr__") != "poisoned"   # the server's class is untouched
    again = restricted_loads(pickle.dumps(real(sample), protocol=4))   # the next decode: a clean subclass
    assert again == real(sample) and "poisoned" not in repr(again)


def test_shared_references_cannot_blow_up_rendering() -> None:
    # 40 levels of a list holding the same list 1,000 times: tiny as a pickle, 1000**40 items shown naively.
    value: list[object] = [1]
    for _ in range(40):
        value = [value] * 1000
    data = pickle.dumps(value, protocol=4)
    assert len(data) < 100_000
    # Unbounded, these would run for ever (pytest's timeout would end it): bounded, they stop early.
    decoded = restricted_loads(data)
    shown = render(decoded, 200_000)
    assert shown["truncated"] and len(shown["text"]) == 200_000 and "json" not in shown
    assert len(json.dumps(to_json_value(decoded, budget=10_000))) < 2_000_000


def test_text_is_bounded_and_marks_truncation() -> None:
    assert text_of("x" * 50_000, 100) == ("'" + "x" * 99, True)
    assert text_of({"a": (1,)}, 100) == ("{'a': (1,)}", False)
    assert text_of(10**5000, 100)[0] == "<int of 16610 bits>"
    assert render({"a": [1, 2]}, 100)["json"] == {"a": [1, 2]}
    assert "json" not in render({1: 2}, 100)              # a key JSON cannot hold
    assert "json" not in render(float("nan"), 100)
    assert "json" not in render(2**60, 100)               # JavaScript would round it


@pytest.mark.parametrize("descriptor,shown", [
    ({"type": "uploader-v2", "sub-type": "uploaded", "url": "s3://b/F/abc", "is_text": False,
      "encoding": "utf-8", "size": 14, "note": "Internal representation of IncludeFile"},
     {"type": "IncludeFile", "url": "s3://b/F/abc", "size": 14, "is_text": False, "encoding": "utf-8"}),
    ({"type": "uploader-v1", "url": "local:///d/F/abc", "is_text": True, "encoding": "latin-1"},   # no size in v1
     {"type": "IncludeFile", "url": "local:///d/F/abc", "size": None, "is_text": True, "encoding": "latin-1"}),
])
def test_metaflow_included_file_decodes_to_its_descriptor(descriptor: dict[str, object],
                                                           shown: dict[str, object]) -> None:
    """An IncludeFile parameter's value in Metaflow's ``_parameters`` task, pickled by Metaflow itself."""
    includefile = pytest.importorskip("metaflow.includefile", reason="the pip metaflow package is missing")
    from backend.sandbox.safe_pickle import IncludedFileRecord

    decoded = restricted_loads(pickle.dumps(includefile.IncludedFile(descriptor), protocol=4))
    assert isinstance(decoded, IncludedFileRecord)
    assert decoded.shown() == shown
    assert repr(decoded).startswith(f"IncludedFile({shown['url']!r}")
