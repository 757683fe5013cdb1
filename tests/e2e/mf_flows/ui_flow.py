"""start foreach -> square (@retry; item 1 fails once) -> gather -> end, printing on both streams.

``Opaque`` is defined in the flow file, so its pickle names ``__main__.Opaque``: a value the
UI's unpickling worker cannot rebuild, which must show as an error on that artifact only.
"""

import os
import sys
import time

from metaflow import FlowSpec, current, retry, step


class Opaque:
    def __init__(self, n):
        self.n = n


class UiFlow(FlowSpec):
    """Foreach with a retry, for the UI API."""

    @step
    def start(self):
        time.sleep(float(os.environ.get("UI_FLOW_START_SLEEP", "0")))
        self.items = ["a", "b", "c"]
        self.opaque = Opaque(3)
        print("start line one")
        print("start line two")
        print("start warning", file=sys.stderr)
        self.next(self.square, foreach="items")

    @retry(times=1, minutes_between_retries=0)
    @step
    def square(self):
        if self.input == "b" and current.retry_count == 0:
            raise ValueError("flaky item b")
        self.sq = self.input * 2
        for i in range(5):
            print(f"square {self.input} line {i}")
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.joined = "".join(sorted(i.sq for i in inputs))
        self.next(self.end)

    @step
    def end(self):
        print("joined", self.joined)


if __name__ == "__main__":
    UiFlow()
