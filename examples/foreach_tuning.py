"""Foreach: one task per learning rate, the best picked in a join.

    python examples/foreach_tuning.py run --max-workers 4
"""

from core_runtime import FlowSpec, current, step


def train(rate: float, steps: int = 60) -> float:
    """Minimise (w - 4)^2 with gradient descent; returns the final loss."""
    w = 0.0
    for _ in range(steps):
        w -= rate * 2 * (w - 4)
    return (w - 4) ** 2


class ForeachTuningFlow(FlowSpec):
    """Grid search over learning rates."""

    @step
    def start(self):
        """The grid."""
        self.rates = [0.001, 0.01, 0.05, 0.1, 0.5, 0.9]
        self.next(self.fit, foreach="rates")

    @step
    def fit(self):
        """Train with one learning rate."""
        self.rate = self.input
        self.loss = train(self.rate)
        print(f"task {current.task_id}: rate={self.rate} loss={self.loss:.3g}")
        self.next(self.pick)

    @step
    def pick(self, inputs):
        """Keep the lowest loss."""
        self.results = sorted((inp.loss, inp.rate) for inp in inputs)
        self.best_rate = self.results[0][1]
        self.next(self.end)

    @step
    def end(self):
        print(f"best learning rate: {self.best_rate}")


if __name__ == "__main__":
    ForeachTuningFlow()
