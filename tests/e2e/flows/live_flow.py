"""A slow flow for the live e2e test: its work step prints a numbered line every half second."""

import time

from core_runtime import FlowSpec, step


class LiveFlow(FlowSpec):
    """start -> work (about ten seconds of output) -> end."""

    @step
    def start(self):
        """Wait a moment so the browser sees the run while it is young."""
        time.sleep(2)
        self.next(self.work)

    @step
    def work(self):
        """Print ticks slowly, so lines arrive while the task view is open."""
        for i in range(1, 21):
            print(f"tick {i}", flush=True)
            time.sleep(0.5)
        self.next(self.end)

    @step
    def end(self):
        """Done."""
        print("live flow done")


if __name__ == "__main__":
    LiveFlow()
