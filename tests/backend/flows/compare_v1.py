"""Compare fixture, version 1: start -> train -> end.

The environment steers what differs between runs without changing the code:
COMPARE_BIAS changes the model artifact, COMPARE_FAIL=train makes train raise.
"""

import os

from core_runtime import FlowSpec, Parameter, step


class CompareFlow(FlowSpec):
    """start -> train -> end."""

    alpha = Parameter("alpha", help="Learning rate", default=0.1, type=float)

    @step
    def start(self):
        """Fixed data."""
        self.data = [1, 2, 3]
        self.next(self.train)

    @step
    def train(self):
        """The model depends on COMPARE_BIAS only, not on alpha."""
        if os.environ.get("COMPARE_FAIL") == "train":
            raise RuntimeError("diverged at epoch 3")
        self.model = {"weights": [x + int(os.environ.get("COMPARE_BIAS", "0")) for x in self.data]}
        self.next(self.end)

    @step
    def end(self):
        """Done."""
        self.summary = "ok"


if __name__ == "__main__":
    CompareFlow()
