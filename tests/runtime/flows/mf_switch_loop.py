from core_runtime import FlowSpec, Parameter, step


class TrainUntilGoodFlow(FlowSpec):
    """Pick a preparation by a parameter, then train in rounds until the loss is low enough."""

    mode = Parameter("mode", default="fast", help="fast or thorough preparation")
    rounds = Parameter("rounds", default=3, help="training rounds to run")

    @step
    def start(self):
        self.route = self.mode
        self.next({"fast": self.quick_prep, "thorough": self.full_prep}, condition="route")

    @step
    def quick_prep(self):
        """Use a sample of the data."""
        self.data = list(range(10))
        self.next(self.train)

    @step
    def full_prep(self):
        """Use all of the data."""
        self.data = list(range(100))
        self.next(self.train)

    @step
    def train(self):
        """One training round; runs again until enough rounds are done."""
        self.epoch = getattr(self, "epoch", 0) + 1
        self.loss = round(1.0 / self.epoch, 4)
        print("round", self.epoch, "loss", self.loss)
        self.status = "again" if self.epoch < self.rounds else "done"
        self.next({"again": self.train, "done": self.end}, condition="status")

    @step
    def end(self):
        print("trained", self.epoch, "rounds on", len(self.data), "rows, loss", self.loss)


if __name__ == "__main__":
    TrainUntilGoodFlow()
