import os

from core_runtime import FlowSpec, step


class FlakyLoopFlow(FlowSpec):
    """Items loop a different number of times; item B breaks in its third round until
    FLAKY_LOOP_FIXED is set, so the run can be resumed."""

    @step
    def start(self):
        self.items = [{"id": "A", "rounds": 3}, {"id": "B", "rounds": 5}, {"id": "C", "rounds": 2}]
        self.next(self.begin, foreach="items")

    @step
    def begin(self):
        self.item = self.input["id"]
        self.done_rounds = 0
        self.next(self.work)

    @step
    def work(self):
        self.done_rounds += 1
        if self.item == "B" and self.done_rounds == 3 and not os.environ.get("FLAKY_LOOP_FIXED"):
            raise RuntimeError("round 3 of item B is broken")
        self.state = "more" if self.done_rounds < self.input["rounds"] else "enough"
        self.next({"more": self.work, "enough": self.wrap_up}, condition="state")

    @step
    def wrap_up(self):
        self.result = f"{self.item} after {self.done_rounds} rounds"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.results = sorted(inp.result for inp in inputs)
        self.next(self.end)

    @step
    def end(self):
        print(", ".join(self.results))


if __name__ == "__main__":
    FlakyLoopFlow()
