"""The one error type of the graph package: a problem in the user's flow file, with its line."""

from __future__ import annotations


class GraphError(Exception):
    """A flow file problem. ``str(e)`` is ``"path/to/flow.py:42: <message>"`` so CLIs can print it as is."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message
