"""A wide foreach for the Ray tests: N trivial tasks, each records where it ran."""

import socket

from core_runtime import FlowSpec, Parameter, step


class WideFlow(FlowSpec):
    n = Parameter("n", default=20, help="How many tasks the foreach makes.")

    @step
    def start(self):
        self.items = list(range(self.n))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.square = self.input * self.input
        print("square", self.input, self.square)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.square for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total, "on", socket.gethostname())


if __name__ == "__main__":
    WideFlow()
