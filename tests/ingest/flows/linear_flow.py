"""start -> middle -> end, with two Parameters and output on both streams."""

import sys

from metaflow import FlowSpec, Parameter, step


class LinearFlow(FlowSpec):
    """A straight line of three steps."""

    alpha = Parameter("alpha", default=0.5)
    label = Parameter("label", default="plain")

    @step
    def start(self):
        """Begin."""
        self.x = 1
        print("hello from start")
        print("a warning", file=sys.stderr)
        self.next(self.middle)

    @step
    def middle(self):
        self.x += 1
        self.words = ["a", "b"]
        print("middle line one\nmiddle line two")
        self.next(self.end)

    @step
    def end(self):
        print("x is", self.x)


if __name__ == "__main__":
    LinearFlow()
