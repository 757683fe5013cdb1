"""A step on the cluster that sleeps until something outside ends it (the driver or the cluster);
it writes its pid where the test can find it."""

import os
import time

from core_runtime import FlowSpec, current, kubernetes, step


class SleeperFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.nap)

    @kubernetes(cpu=1, memory=256)
    @step
    def nap(self):
        with open(os.path.join(os.environ["MARKER_DIR"], f"sleeper-{current.run_id}.pid"), "w") as fh:
            fh.write(str(os.getpid()))
        print("napping", flush=True)
        time.sleep(600)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SleeperFlow()
