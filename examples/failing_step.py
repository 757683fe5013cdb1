"""A step that fails on bad input: the run is marked failed with a readable reason.

    python examples/failing_step.py run              # fails in train
    python examples/failing_step.py resume           # still fails (same parameters)
"""

from core_runtime import FlowSpec, Parameter, step


class FailingStepFlow(FlowSpec):
    """Validates its hyper-parameters inside the training step."""

    alpha = Parameter("alpha", help="Regularisation strength (must be < 1)", default=1.5)

    @step
    def start(self):
        self.features = ["age", "income", "tenure"]
        self.next(self.train)

    @step
    def train(self):
        print(f"training on {len(self.features)} features with alpha={self.alpha}")
        if self.alpha >= 1:
            raise ValueError(f"bad alpha {self.alpha}: must be below 1")
        self.model = {"alpha": self.alpha}
        self.next(self.end)

    @step
    def end(self):
        print("trained", self.model)


if __name__ == "__main__":
    FailingStepFlow()
