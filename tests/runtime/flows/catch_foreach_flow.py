"""@catch in a foreach, as Metaflow's docs use it: the join reads ``input.compute_failed`` of every
branch (None where the step did not fail), and the client tells the caught task from the others."""

from core_runtime import FlowSpec, catch, retry, step


class CatchForeachFlow(FlowSpec):
    @step
    def start(self):
        self.divisors = [2, 0, 5]
        self.next(self.compute, foreach="divisors")

    @catch(var="compute_failed", print_exception=False)
    @retry(times=1)
    @step
    def compute(self):
        self.divisor = self.input
        self.result = 10 / self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.failed = [i.divisor for i in inputs if i.compute_failed]
        self.results = sorted(i.result for i in inputs if not i.compute_failed)
        self.next(self.end)

    @step
    def end(self):
        print("failed", self.failed, "results", self.results)


if __name__ == "__main__":
    CatchForeachFlow()
