"""start -> boom -> end; boom fails unless BOOM_OK=1 (so `resume` can fix it)."""

import os

from metaflow import FlowSpec, step


class FailingFlow(FlowSpec):
    """A step that fails, then passes on resume."""

    @step
    def start(self):
        self.value = 41
        self.next(self.boom)

    @step
    def boom(self):
        if os.environ.get("BOOM_OK") != "1":
            raise ValueError("bad alpha")
        self.value += 1
        self.next(self.end)

    @step
    def end(self):
        print("value", self.value)


if __name__ == "__main__":
    FailingFlow()
