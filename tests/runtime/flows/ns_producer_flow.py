"""Produces a value another flow reads through the client (see ns_consumer_flow.py)."""

from core_runtime import FlowSpec, step


class NsProducerFlow(FlowSpec):
    @step
    def start(self):
        self.value = 42
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NsProducerFlow()
