"""A step that raises a built-in exception or one whose class the flow file defines."""

from core_runtime import FlowSpec, Parameter, step


class QuotaExceeded(Exception):
    """An exception class of the user's own, defined beside the flow."""


class ExceptionTypesFlow(FlowSpec):
    kind = Parameter("kind", default="builtin")

    @step
    def start(self):
        if self.kind == "builtin":
            raise ValueError("bad value 7")
        raise QuotaExceeded("quota of 3 exceeded")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ExceptionTypesFlow()
