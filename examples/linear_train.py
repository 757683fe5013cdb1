"""Linear flow: load a toy dataset, fit a one-feature linear model, report the error.

    python examples/linear_train.py run --learning-rate 0.05 --epochs 200
"""

import random

from core_runtime import FlowSpec, Parameter, step


class LinearTrainFlow(FlowSpec):
    """Fit y = w*x + b by gradient descent on generated data."""

    learning_rate = Parameter("learning-rate", help="Gradient descent step size", default=0.05)
    epochs = Parameter("epochs", help="Passes over the data", default=200)
    seed = Parameter("seed", help="Random seed for the data", default=7)

    @step
    def start(self):
        """Generate 100 noisy points around y = 3x + 1."""
        rng = random.Random(self.seed)
        xs = [rng.uniform(-1, 1) for _ in range(100)]
        self.data = [(x, 3 * x + 1 + rng.gauss(0, 0.1)) for x in xs]
        print(f"generated {len(self.data)} points")
        self.next(self.train)

    @step
    def train(self):
        """Plain gradient descent on the mean squared error."""
        w, b = 0.0, 0.0
        n = len(self.data)
        for epoch in range(self.epochs):
            gw = sum(2 * (w * x + b - y) * x for x, y in self.data) / n
            gb = sum(2 * (w * x + b - y) for x, y in self.data) / n
            w, b = w - self.learning_rate * gw, b - self.learning_rate * gb
            if epoch % 50 == 0:
                print(f"epoch {epoch}: w={w:.3f} b={b:.3f}")
        self.weights = {"w": w, "b": b}
        self.next(self.evaluate)

    @step
    def evaluate(self):
        """Mean squared error of the fitted line."""
        w, b = self.weights["w"], self.weights["b"]
        self.mse = sum((w * x + b - y) ** 2 for x, y in self.data) / len(self.data)
        print(f"mse={self.mse:.4f}")
        self.next(self.end)

    @step
    def end(self):
        """Done."""
        print(f"model: y = {self.weights['w']:.2f}x + {self.weights['b']:.2f} (mse {self.mse:.4f})")


if __name__ == "__main__":
    LinearTrainFlow()
