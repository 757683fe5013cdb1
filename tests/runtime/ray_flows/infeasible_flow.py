"""A request no node of the test cluster can meet."""

from core_runtime import FlowSpec, kubernetes, step


class InfeasibleFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.huge)

    @kubernetes(cpu=64, memory=1024)
    @step
    def huge(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    InfeasibleFlow()
