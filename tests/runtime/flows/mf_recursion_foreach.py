from core_runtime import FlowSpec, step


class CountdownFlow(FlowSpec):
    """Inside a foreach, each item counts down in a recursive step, a different number of times."""

    @step
    def start(self):
        self.items = [{"id": "A", "times": 3}, {"id": "B", "times": 1}, {"id": "C", "times": 4}]
        self.next(self.prepare, foreach="items")

    @step
    def prepare(self):
        self.item = self.input["id"]
        self.left = self.input["times"]
        self.ticks = []
        self.next(self.tick)

    @step
    def tick(self):
        self.ticks = self.ticks + [self.left]
        self.left -= 1
        self.more = self.left > 0
        self.next({True: self.tick, False: self.finish}, condition="more")

    @step
    def finish(self):
        self.summary = f"{self.item}: {self.ticks}"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.summaries = [inp.summary for inp in inputs]
        self.next(self.end)

    @step
    def end(self):
        print(" | ".join(self.summaries))


if __name__ == "__main__":
    CountdownFlow()
