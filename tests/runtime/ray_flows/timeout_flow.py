"""@timeout on the cluster: the attempt is cancelled and its process killed on the node."""

import os
import time

from core_runtime import FlowSpec, current, kubernetes, step, timeout


class RayTimeoutFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.slow)

    @timeout(seconds=6)
    @kubernetes(cpu=1, memory=256)
    @step
    def slow(self):
        with open(os.path.join(os.environ["MARKER_DIR"], f"timeout-{current.run_id}.pid"), "w") as fh:
            fh.write(str(os.getpid()))
        print("sleeping past the timeout", flush=True)
        time.sleep(600)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RayTimeoutFlow()
