"""A step that sleeps past its @timeout; retried once, then the run fails."""

import time

from core_runtime import FlowSpec, resources, retry, step, timeout


class TimeoutFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.slow)

    @resources(cpu=2, memory=1024)
    @retry(times=1, minutes_between_retries=0)
    @timeout(seconds=1)
    @step
    def slow(self):
        print("sleeping", flush=True)
        time.sleep(30)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TimeoutFlow()
