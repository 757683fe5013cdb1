"""A step that raises a class of the flow file's own that shares a built-in exception's name."""

import builtins

from core_runtime import FlowSpec, Parameter, step


class ValueError(Exception):   # the point: it shadows builtins.ValueError
    """The flow's own ValueError, not Python's."""


class ShadowedExceptionFlow(FlowSpec):
    kind = Parameter("kind", default="own")

    @step
    def start(self):
        if self.kind == "own":
            raise ValueError("own value 7")
        raise builtins.ValueError("builtin value 8")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ShadowedExceptionFlow()
