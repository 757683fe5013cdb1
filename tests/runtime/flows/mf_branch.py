from core_runtime import FlowSpec, step


class TwoModelsFlow(FlowSpec):
    """A static branch: two steps run in parallel and a join compares them."""

    @step
    def start(self):
        self.dataset = [3, 1, 4, 1, 5, 9, 2, 6]
        self.next(self.mean_model, self.median_model)

    @step
    def mean_model(self):
        self.prediction = sum(self.dataset) / len(self.dataset)
        self.next(self.join)

    @step
    def median_model(self):
        ordered = sorted(self.dataset)
        self.prediction = (ordered[3] + ordered[4]) / 2
        self.next(self.join)

    @step
    def join(self, inputs):
        print("mean model says", inputs.mean_model.prediction)
        print("median model says", inputs.median_model.prediction)
        self.best = max(inp.prediction for inp in inputs)
        self.merge_artifacts(inputs, exclude=["prediction"])
        self.next(self.end)

    @step
    def end(self):
        print("best", self.best, "from", len(self.dataset), "points")


if __name__ == "__main__":
    TwoModelsFlow()
