"""A foreach inside a foreach, foreach_stack(), and joins at both levels."""

from core_runtime import FlowSpec, step


class GridFlow(FlowSpec):
    @step
    def start(self):
        self.rates = [0.1, 0.01]
        self.next(self.per_rate, foreach="rates")

    @step
    def per_rate(self):
        self.rate = self.input
        self.depths = [2, 4, 8]
        self.next(self.fit, foreach="depths")

    @step
    def fit(self):
        self.stack = self.foreach_stack()
        self.score = round(self.rate * self.input + self.index, 4)
        self.next(self.best_depth)

    @step
    def best_depth(self, inputs):
        self.rate = inputs[0].rate
        self.scores = [i.score for i in inputs]
        self.next(self.best_rate)

    @step
    def best_rate(self, inputs):
        self.table = {i.rate: i.scores for i in inputs}
        self.next(self.end)

    @step
    def end(self):
        print(self.table)


if __name__ == "__main__":
    GridFlow()
