"""start foreach -> square (@retry; item 1 fails its first attempt) -> gather -> risky (@catch) -> end."""

from metaflow import FlowSpec, catch, current, retry, step


class ForeachFlow(FlowSpec):
    """Foreach with a retried task and a caught error."""

    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.square, foreach="items")

    @retry(times=2, minutes_between_retries=0)
    @step
    def square(self):
        if self.input == 1 and current.retry_count == 0:
            raise ValueError("flaky item 1")
        self.sq = self.input * self.input
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.total = sum(i.sq for i in inputs)
        self.next(self.risky)

    @catch(var="risky_error")
    @step
    def risky(self):
        raise RuntimeError("risky went wrong")
        self.next(self.end)  # noqa: unreachable (metaflow needs the transition)

    @step
    def end(self):
        print("total", self.total)


if __name__ == "__main__":
    ForeachFlow()
