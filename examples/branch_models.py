"""Static branch: train two kinds of model side by side and keep the better one.

    python examples/branch_models.py run
"""

import random

from core_runtime import FlowSpec, step


class BranchModelsFlow(FlowSpec):
    """A mean baseline and a nearest-neighbour model, compared in a join."""

    @step
    def start(self):
        """Split generated data into train and test."""
        rng = random.Random(1)
        points = [(x, x * x + rng.gauss(0, 0.05)) for x in [rng.uniform(0, 1) for _ in range(200)]]
        self.train_set, self.test_set = points[:150], points[150:]
        self.next(self.baseline, self.knn)

    @step
    def baseline(self):
        """Predict the training mean for everything."""
        mean = sum(y for _, y in self.train_set) / len(self.train_set)
        self.model_name = "mean baseline"
        self.error = sum(abs(y - mean) for _, y in self.test_set) / len(self.test_set)
        self.next(self.choose)

    @step
    def knn(self):
        """Predict the value of the nearest training point."""
        def predict(x):
            return min(self.train_set, key=lambda p: abs(p[0] - x))[1]
        self.model_name = "1-nearest neighbour"
        self.error = sum(abs(y - predict(x)) for x, y in self.test_set) / len(self.test_set)
        self.next(self.choose)

    @step
    def choose(self, inputs):
        """Keep the model with the lower test error."""
        best = min(inputs, key=lambda inp: inp.error)
        self.best_model, self.best_error = best.model_name, best.error
        self.errors = {inp.model_name: round(inp.error, 4) for inp in inputs}
        self.merge_artifacts(inputs, exclude=["model_name", "error"])
        self.next(self.end)

    @step
    def end(self):
        """Report."""
        print(f"errors: {self.errors}; best: {self.best_model}")


if __name__ == "__main__":
    BranchModelsFlow()
