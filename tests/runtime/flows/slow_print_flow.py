"""Prints a numbered line every 0.2 s for a while: for live-log and kill tests."""

import time

from core_runtime import FlowSpec, Parameter, step


class SlowPrintFlow(FlowSpec):
    seconds = Parameter("seconds", default=20.0)

    @step
    def start(self):
        self.next(self.work)

    @step
    def work(self):
        t0 = time.time()
        i = 0
        while time.time() - t0 < self.seconds:
            i += 1
            print(f"tick {i}")
            time.sleep(0.2)
        self.ticks = i
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SlowPrintFlow()
