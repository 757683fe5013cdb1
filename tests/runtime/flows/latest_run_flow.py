"""Fails at step b until LATEST_OK=1: which run a bare resume picks up."""

import os

from core_runtime import FlowSpec, step


class LatestRunFlow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.b)

    @step
    def b(self):
        if os.environ.get("LATEST_OK") != "1":
            raise ValueError("b fails")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    LatestRunFlow()
