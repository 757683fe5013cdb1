"""Backend fixture flow: a step that keeps printing for a long time (to be killed)."""

import time

from core_runtime import FlowSpec, step


class SlowFlow(FlowSpec):
    """start -> crawl (slow) -> end."""

    @step
    def start(self):
        """Begin."""
        self.next(self.crawl)

    @step
    def crawl(self):
        """Print a line every 0.2 s for a minute."""
        for i in range(300):
            print("tick", i, flush=True)
            time.sleep(0.2)
        self.next(self.end)

    @step
    def end(self):
        """Done."""


if __name__ == "__main__":
    SlowFlow()
