"""Nested foreach: models × folds cross-validation.

    python examples/nested_foreach_grid.py run
"""

import random

from core_runtime import FlowSpec, step


class NestedGridFlow(FlowSpec):
    """For each model degree, for each fold: fit and score; average per model; pick the best."""

    @step
    def start(self):
        rng = random.Random(3)
        self.data = [(x, 2 * x * x - x + rng.gauss(0, 0.1)) for x in [i / 50 for i in range(100)]]
        self.degrees = [0, 1, 2]
        self.next(self.model, foreach="degrees")

    @step
    def model(self):
        """One polynomial degree; split the data into folds."""
        self.degree = self.input
        self.folds = [0, 1, 2, 3]
        self.next(self.fold, foreach="folds")

    @step
    def fold(self):
        """Fit on 3 folds by least squares on monomials, score on the held-out one."""
        test = [p for i, p in enumerate(self.data) if i % 4 == self.input]
        train = [p for i, p in enumerate(self.data) if i % 4 != self.input]
        coeffs = _fit(train, self.degree)
        self.score = sum((_eval(coeffs, x) - y) ** 2 for x, y in test) / len(test)
        print(f"degree {self.degree} fold {self.input}: mse {self.score:.4f}")
        self.next(self.average)

    @step
    def average(self, inputs):
        self.degree = inputs[0].degree
        self.cv_mse = sum(i.score for i in inputs) / len(inputs)
        self.next(self.choose)

    @step
    def choose(self, inputs):
        self.table = {i.degree: round(i.cv_mse, 4) for i in inputs}
        self.best_degree = min(self.table, key=self.table.get)
        self.next(self.end)

    @step
    def end(self):
        print(f"cv mse by degree: {self.table}; best degree {self.best_degree}")


def _fit(points, degree):
    """Normal equations with Gaussian elimination (small and dependency-free)."""
    n = degree + 1
    a = [[sum(x ** (i + j) for x, _ in points) for j in range(n)] for i in range(n)]
    b = [sum(y * x ** i for x, y in points) for i in range(n)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[piv], b[col], b[piv] = a[piv], a[col], b[piv], b[col]
        for r in range(n):
            if r != col and a[col][col]:
                f = a[r][col] / a[col][col]
                a[r] = [u - f * v for u, v in zip(a[r], a[col])]
                b[r] -= f * b[col]
    return [b[i] / a[i][i] for i in range(n)]


def _eval(coeffs, x):
    return sum(c * x ** i for i, c in enumerate(coeffs))


if __name__ == "__main__":
    NestedGridFlow()
