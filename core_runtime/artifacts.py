"""Artifacts: pickled (protocol 4), content-addressed by SHA-1, stored once per flow.

The writer also makes a short, safe text preview so readers (the UI backend) never unpickle
user data just to show what a value looks like.
"""

from __future__ import annotations

import hashlib
import pickle
import reprlib
import unicodedata
from dataclasses import dataclass
from typing import Any

from contract.datastore import Datastore, blob_key

ENCODING = "pickle-v4"


@dataclass(frozen=True)
class ArtifactRecord:
    name: str
    sha: str
    type: str
    size: int
    encoding: str
    location: str
    preview: str


class ArtifactError(Exception):
    """An artifact cannot be saved or loaded; the message names the step and the attribute."""


def type_name(value: Any) -> str:
    """"float" for builtins, else the shortest importable-looking name ("pandas.DataFrame")."""
    cls = type(value)
    module = cls.__module__ or ""
    if module == "builtins":
        return cls.__qualname__
    top = module.split(".", 1)[0]
    import sys

    top_mod = sys.modules.get(top)
    if top_mod is not None and getattr(top_mod, cls.__qualname__, None) is cls:
        return f"{top}.{cls.__qualname__}"
    return f"{module}.{cls.__qualname__}"


def serialize(value: Any) -> bytes:
    return pickle.dumps(value, protocol=4)


def persist_artifacts(ds: Datastore, flow: str, step: str, values: dict[str, Any]) -> list[ArtifactRecord]:
    """Pickle, hash and store each value (skipping blobs already stored); return their records."""
    records: list[ArtifactRecord] = []
    for name, value in values.items():
        try:
            data = serialize(value)
        except Exception as exc:
            raise ArtifactError(f"step {step}: artifact self.{name} cannot be saved: "
                                f"{type(exc).__name__}: {exc}") from exc
        sha = hashlib.sha1(data).hexdigest()
        key = blob_key(flow, sha)
        ds.put_if_absent(key, data)
        records.append(ArtifactRecord(name=name, sha=sha, type=type_name(value), size=len(data),
                                      encoding=ENCODING, location=key, preview=make_preview(value)))
    return records


def load_artifact(ds: Datastore, location: str) -> Any:
    data = ds.get(location)
    try:
        return pickle.loads(data)
    except Exception as exc:
        raise ArtifactError(f"artifact at {ds.root}/{location} cannot be loaded: "
                            f"{type(exc).__name__}: {exc}") from exc


_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxfrozenset = _repr.maxdeque = 10
_repr.maxdict = 8
_repr.maxstring = 160
_repr.maxother = 160
_repr.maxlong = 60


def make_preview(value: Any, limit: int = 200) -> str:
    """A short single-line text: typed summaries for containers and arrays, never control chars."""
    try:
        text = _summary(value)
    except Exception as exc:  # noqa: BLE001 -- a user __repr__ may raise anything
        text = f"<{type_name(value)}: preview failed: {type(exc).__name__}>"
    text = _printable(text)
    if len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def _summary(value: Any) -> str:
    tname = type_name(value)
    if tname in ("numpy.ndarray",):
        head = value.ravel()[:10].tolist()
        return f"ndarray {value.dtype} shape {tuple(value.shape)}: {_repr.repr(head)}"
    if tname == "pandas.DataFrame":
        cols = ", ".join(str(c) for c in list(value.columns)[:20])
        return f"DataFrame {value.shape[0]} rows × {value.shape[1]} columns: {cols}"
    if tname == "pandas.Series":
        return f"Series {len(value)} rows, dtype {value.dtype}, name {value.name!r}"
    if isinstance(value, (bytes, bytearray)):
        return f"{tname} ({len(value)} bytes): {_repr.repr(bytes(value[:40]))}"
    if isinstance(value, (list, tuple, set, frozenset, dict)) and len(value) > 10:
        unit = "keys" if isinstance(value, dict) else "items"
        return f"{tname} of {len(value)} {unit}: {_repr.repr(value)}"
    return _repr.repr(value)


def _printable(text: str) -> str:
    """Replace control and other non-printing characters with visible escapes."""
    out = []
    for ch in text:
        if ch == " " or (ch.isprintable() and unicodedata.category(ch) not in ("Zl", "Zp")):
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)
