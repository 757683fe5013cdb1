"""A foreach over a variable that is empty, not iterable or not set (``--mode``)."""

from core_runtime import FlowSpec, Parameter, step


class ForeachMisuseFlow(FlowSpec):
    mode = Parameter("mode", default="ok")
    fail_end = Parameter("fail_end", default=False, type=bool)

    @step
    def start(self):
        if self.mode == "empty":
            self.shards = []
        elif self.mode == "scalar":
            self.shards = 5
        elif self.mode == "ok":
            self.shards = ["a", "b"]
        self.next(self.process, foreach="shards")

    @step
    def process(self):
        self.shard = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.shards_done = sorted(i.shard for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        if self.fail_end:
            raise ValueError("end failed")
        print("done", self.shards_done)


if __name__ == "__main__":
    ForeachMisuseFlow()
