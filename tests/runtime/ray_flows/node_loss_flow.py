"""A 2-CPU step that waits for the test to kill its node; the retry finishes on the other node."""

import os
import time

from core_runtime import FlowSpec, current, kubernetes, retry, step


class NodeLossFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.fragile)

    @retry(times=1, minutes_between_retries=0)
    @kubernetes(cpu=2, memory=256)
    @step
    def fragile(self):
        marker = os.environ.get("NODE_LOSS_MARKER", "")
        if current.retry_count == 0 and marker:
            with open(marker, "w") as fh:
                fh.write(str(os.getpid()))
            print("attempt 0 waiting for its node to be killed", flush=True)
            time.sleep(600)
        self.value = 42
        print("attempt", current.retry_count, "finished")
        self.next(self.end)

    @step
    def end(self):
        print("value", self.value)


if __name__ == "__main__":
    NodeLossFlow()
