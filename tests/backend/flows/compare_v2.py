"""Compare fixture, version 2: the same CompareFlow with a score step added before end."""

import os

from core_runtime import FlowSpec, Parameter, step


class CompareFlow(FlowSpec):
    """start -> train -> score -> end."""

    alpha = Parameter("alpha", help="Learning rate", default=0.1, type=float)

    @step
    def start(self):
        """Fixed data."""
        self.data = [1, 2, 3]
        self.next(self.train)

    @step
    def train(self):
        """Same as version 1."""
        if os.environ.get("COMPARE_FAIL") == "train":
            raise RuntimeError("diverged at epoch 3")
        self.model = {"weights": [x + int(os.environ.get("COMPARE_BIAS", "0")) for x in self.data]}
        self.next(self.score)

    @step
    def score(self):
        """New in version 2; sets no artifact so only the DAG differs."""
        print("scoring", len(self.model["weights"]))
        self.next(self.end)

    @step
    def end(self):
        """Done."""
        self.summary = "ok"


if __name__ == "__main__":
    CompareFlow()
