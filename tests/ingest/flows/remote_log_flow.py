"""start waits (until a file appears) while the test uploads its logs as a remote task does -> end."""

import os
import time
from pathlib import Path

from metaflow import FlowSpec, step


class RemoteLogFlow(FlowSpec):
    """A step that stays running until the test lets it go."""

    @step
    def start(self):
        release = Path(os.environ["REMOTE_LOG_RELEASE"])
        deadline = time.time() + 120
        while not release.exists() and time.time() < deadline:
            time.sleep(0.1)
        print("local line at the end")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RemoteLogFlow()
