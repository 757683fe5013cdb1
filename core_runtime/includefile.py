"""IncludeFile: a parameter whose value is the content of a local file, read when the run starts.

``data = IncludeFile("data", default="data.csv")`` — ``python flow.py run --data other.csv``
(or ``METAFLOW_RUN_DATA=other.csv``) names another file. The content is read once, by the run
command, and stored once as an artifact (content-addressed, like every artifact): every task
sees it as ``self.data`` — text decoded with ``encoding`` (default UTF-8), or ``bytes`` with
``is_text=False``, or whatever ``parser=`` makes of the text. The run's parameter list shows
the file's name and size, not its content.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from core_runtime.parameters import Parameter, ParameterError


class IncludedFile:
    """Where an IncludeFile's value came from (recorded with the run's parameters)."""

    def __init__(self, path: str, size: int, is_text: bool, encoding: str) -> None:
        self.path = path
        self.size = size
        self.is_text = is_text
        self.encoding = encoding

    @property
    def descriptor(self) -> dict[str, Any]:
        return {"type": "IncludeFile", "path": self.path, "size": self.size,
                "is_text": self.is_text, "encoding": self.encoding}

    def __repr__(self) -> str:
        return f"IncludedFile({self.path!r}, {self.size} bytes)"


class IncludeFile(Parameter):
    def __init__(self, name: str, required: bool | None = None, is_text: bool | None = None,
                 encoding: str | None = None, help: str | None = None,
                 parser: str | Callable[[str], Any] | None = None, **kwargs: Any) -> None:
        super().__init__(name, required=required, help=help, type=str, **kwargs)
        self.is_text = True if is_text is None else bool(is_text)
        self.encoding = encoding or "utf-8"
        self.parser = parser

    @property
    def type_name(self) -> str:
        return "FILE"

    def parse(self, text: str, source: str | None = None) -> Any:
        return text      # a path; read by load() when the run starts

    def default_value(self, ctx: Any = None, flow_cls: type | None = None) -> Any:
        from core_runtime.config_expr import resolve
        from core_runtime.parameters import _call_default

        value = resolve(self.default, flow_cls) if flow_cls is not None else self.default
        if callable(value):
            value = _call_default(value, ctx)
        return value

    def load(self, path: Any) -> tuple[Any, IncludedFile | None]:
        """(the value steps see, where it came from) for a path; ParameterError if unreadable."""
        if path is None:
            return None, None
        if not isinstance(path, (str, os.PathLike)):
            raise ParameterError(f"{self.option}: expected a file path, got {path!r}")
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise ParameterError(f"{self.option}: cannot read {path}: {exc.strerror}") from None
        info = IncludedFile(os.fspath(path), len(data), self.is_text, self.encoding)
        if not self.is_text:
            return data, info
        try:
            text = data.decode(self.encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParameterError(f"{self.option}: {path} is not {self.encoding} text ({exc})") from None
        if self.parser is None:
            return text, info
        from core_runtime.config import find_parser

        try:
            return find_parser(self.parser)(text), info
        except Exception as exc:  # noqa: BLE001 - a user parser may raise anything
            raise ParameterError(f"{self.option}: the parser failed on {path}: "
                                 f"{type(exc).__name__}: {exc}") from None
