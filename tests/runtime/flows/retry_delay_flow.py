"""A retry that waits between attempts (a fraction of a minute, so the test stays short)."""

from core_runtime import FlowSpec, current, retry, step


class RetryDelayFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.flaky)

    @retry(times=1, minutes_between_retries=0.02)
    @step
    def flaky(self):
        if current.retry_count == 0:
            raise RuntimeError("first attempt fails")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RetryDelayFlow()
