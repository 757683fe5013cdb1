"""start -> wait (sleeps SLOW_FLOW_SECONDS, printing; touches SLOW_FLOW_MARK when it begins) -> end."""

import os
import time

from metaflow import FlowSpec, step


class SlowFlow(FlowSpec):
    """A run that stays alive long enough to be watched, heartbeat and be killed."""

    @step
    def start(self):
        self.n = 3
        self.next(self.wait)

    @step
    def wait(self):
        mark = os.environ.get("SLOW_FLOW_MARK")
        if mark:
            open(mark, "w").close()
        seconds = float(os.environ.get("SLOW_FLOW_SECONDS", "20"))
        for i in range(int(seconds)):
            print("tick", i, flush=True)
            time.sleep(1)
        self.next(self.end)

    @step
    def end(self):
        print("done after", self.n)


if __name__ == "__main__":
    SlowFlow()
