"""A pip `metaflow` flow whose `wait` step prints, then sleeps (long enough to be looked at while it runs)."""

import time

from metaflow import FlowSpec, step


class QuietLogFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.wait)

    @step
    def wait(self):
        for i in range(120):
            print("tick", i, flush=True)
            time.sleep(1)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    QuietLogFlow()
