"""A slow flow for tests/e2e/test_run_page_request.py (its own name: test_live.py expects no
LiveFlow runs before its own)."""

import time

from core_runtime import FlowSpec, step


class RunPageFlow(FlowSpec):
    """start (2 s) -> work (3 s) -> end: open while start runs, see work's task arrive."""

    @step
    def start(self):
        """Wait so the browser opens the run while it has one task."""
        time.sleep(2)
        self.next(self.work)

    @step
    def work(self):
        """Run long enough to be seen running."""
        time.sleep(3)
        self.next(self.end)

    @step
    def end(self):
        """Done."""
        print("run page flow done")


if __name__ == "__main__":
    RunPageFlow()
