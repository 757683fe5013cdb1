"""Fit a line to a few (size, price) points, per region, and pick the steepest.

Written the way a Metaflow user writes it; the tests spin its steps one at a time.
"""

from core_runtime import FlowSpec, Parameter, step, timeout


class HousePricesFlow(FlowSpec):
    markup = Parameter("markup", default=1.0, help="multiplies every price")

    @step
    def start(self):
        self.regions = ["north", "south"]
        self.points = {
            "north": [(50, 100.0), (70, 140.0), (90, 180.0)],
            "south": [(40, 60.0), (60, 90.0), (80, 120.0)],
        }
        self.next(self.fit, foreach="regions")

    @step
    def fit(self):
        pts = [(x, y * self.markup) for x, y in self.points[self.input]]
        n = len(pts)
        mx = sum(x for x, _ in pts) / n
        my = sum(y for _, y in pts) / n
        self.slope = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)
        self.intercept = my - self.slope * mx
        self.region = self.input
        print(f"{self.region}: price = {self.slope:.2f} * size + {self.intercept:.2f} (split {self.index})")
        self.next(self.choose)

    @step
    def choose(self, inputs):
        best = max(inputs, key=lambda i: i.slope)
        self.best_region = best.region
        self.best_slope = best.slope
        self.next(self.end)

    @timeout(seconds=30)
    @step
    def end(self):
        print(f"steepest: {self.best_region} at {self.best_slope:.2f} per m2")


if __name__ == "__main__":
    HousePricesFlow()
