"""A step whose @timeout is shorter than it takes: spin applies the @timeout unless told to
skip decorators."""

import time

from core_runtime import FlowSpec, step, timeout


class SlowStepFlow(FlowSpec):
    @step
    def start(self):
        self.delay = 0      # spin overrides it with --artifacts-module
        self.next(self.wait)

    @timeout(seconds=1)
    @step
    def wait(self):
        time.sleep(self.delay)
        self.waited = True
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SlowStepFlow()
