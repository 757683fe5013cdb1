"""@resources(cpu=3): only the test cluster's 3-CPU node can take the step; an impossible request
is refused with a message instead of waiting forever."""

from core_runtime import FlowSpec, Parameter, resources, step


class PlacementFlow(FlowSpec):
    cpus = Parameter("cpus", default=3, help="CPUs the big step asks for.")

    @step
    def start(self):
        self.next(self.big)

    @resources(cpu=3, memory=512)
    @step
    def big(self):
        import os

        self.pid = os.getpid()
        print("big step running")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    PlacementFlow()
