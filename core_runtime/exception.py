"""The exception classes a Metaflow user catches or raises, under the names Metaflow gives them.

``from core_runtime.exception import MetaflowException`` works like ``metaflow.exception``.
The runtime's own errors derive from these (``MergeArtifactsError`` is an
``UnhandledInMergeArtifactsException``, the client's not-found errors are ``MetaflowNotFound``),
so code written against Metaflow's names catches them.
"""

from __future__ import annotations

import traceback
from typing import Any


class MetaflowException(Exception):
    """Base of every Metaflow-named exception; ``str()`` is the message."""

    headline = "Flow failed"

    def __init__(self, msg: str = "", lineno: int | None = None, source_file: str | None = None) -> None:
        self.message = msg
        self.line_no = lineno
        self.source_file = source_file
        super().__init__(msg)

    def __str__(self) -> str:
        where = ""
        if self.source_file:
            where = f"{self.source_file}:"
        if self.line_no:
            where = f"line {self.line_no}:"
        return f"{where} {self.message}" if where else str(self.message)


class MetaflowExceptionWrapper(Exception):
    """An exception reduced to text (type name, message, traceback) so it always pickles."""

    def __init__(self, exc: BaseException | None = None) -> None:
        super().__init__()
        if exc is not None:
            self.exception = str(exc)
            self.type = f"{type(exc).__module__}.{type(exc).__name__}"
            self.stacktrace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) \
                if exc.__traceback__ is not None else None

    def __reduce__(self) -> Any:
        return MetaflowExceptionWrapper, (None,), self.__dict__

    def __setstate__(self, state: dict[str, Any] | None) -> None:
        self.__dict__ = dict(state or {})

    def __str__(self) -> str:
        return self.stacktrace or f"{self.type}: {self.exception}"

    __repr__ = __str__


class ExternalCommandFailed(MetaflowException):
    headline = "External command failed"


class CommandException(MetaflowException):
    headline = "Invalid command"


class MetaflowNotFound(MetaflowException):
    headline = "Object not found"


class MetaflowNamespaceMismatch(MetaflowException):
    headline = "Object not in the current namespace"

    def __init__(self, namespace: str | None) -> None:
        super().__init__(f"object not in namespace {namespace!r}")


class MetaflowInvalidPathspec(MetaflowException):
    headline = "Invalid pathspec"


class MetaflowInternalError(MetaflowException):
    headline = "Internal error"


class MetaflowTaggingError(MetaflowException):
    headline = "Tagging error"


class MetaflowDataMissing(MetaflowException):
    headline = "Data missing"


class InvalidDecoratorAttribute(MetaflowException):
    headline = "Unknown decorator attribute"

    def __init__(self, deconame: str, attr: str, defaults: Any) -> None:
        super().__init__(f"@{deconame} has no attribute {attr!r} "
                         f"(its attributes: {', '.join(sorted(defaults))})")


class ParameterFieldFailed(MetaflowException):
    headline = "Parameter field failed"


class InvalidNextException(MetaflowException):
    headline = "Invalid self.next() transition detected"


class UnhandledInMergeArtifactsException(MetaflowException):
    """merge_artifacts found artifacts whose values differ between the inputs."""

    headline = "Unhandled artifacts in merge"

    def __init__(self, msg: str, unhandled: list[str]) -> None:
        super().__init__(msg)
        self.artifact_names = unhandled


class MissingInMergeArtifactsException(MetaflowException):
    """merge_artifacts(include=...) named artifacts that no input has."""

    headline = "Missing artifacts in merge"

    def __init__(self, msg: str, unhandled: list[str]) -> None:
        super().__init__(msg)
        self.artifact_names = unhandled


# Where Metaflow defines them (``metaflow.plugins.timeout_decorator`` / ``catch_decorator``), so the
# class names @catch stores read the same; importable from here too.
from core_runtime.plugins.catch_decorator import FailureHandledByCatch as FailureHandledByCatch  # noqa: E402
from core_runtime.plugins.timeout_decorator import TimeoutException as TimeoutException  # noqa: E402
