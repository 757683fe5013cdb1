"""self.input / self.index / foreach_stack() deeper in a foreach body, and after an inner join."""

from core_runtime import FlowSpec, step


class ForeachBodyFlow(FlowSpec):
    @step
    def start(self):
        self.regions = {"eu": 3, "us": 5}
        self.next(self.region, foreach="regions")

    @step
    def region(self):
        self.name = self.input
        self.sizes = list(range(self.regions[self.input]))
        self.next(self.shard, foreach="sizes")

    @step
    def shard(self):
        self.next(self.score)

    @step
    def score(self):
        # Still inside the inner foreach: input and index are the shard's.
        self.seen = (self.name, self.input, self.index, self.foreach_stack())
        self.next(self.collect)

    @step
    def collect(self, inputs):
        self.count = len(inputs)
        self.outer_index = self.index          # the enclosing foreach's index
        self.merge_artifacts(inputs, include=["name"])
        self.next(self.done)

    @step
    def done(self, inputs):
        self.counts = {i.name: (i.count, i.outer_index) for i in inputs}
        self.next(self.end)

    @step
    def end(self):
        print("counts", self.counts)


if __name__ == "__main__":
    ForeachBodyFlow()
