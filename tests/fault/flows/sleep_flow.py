"""A flow that sleeps in its first step long enough to be killed mid-run."""

import time

from core_runtime import FlowSpec, step


class SleepFlow(FlowSpec):
    @step
    def start(self):
        print("sleeping", flush=True)
        time.sleep(120)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SleepFlow()
