"""A flow whose finished runs trigger TriggeredFlow (tests/runtime/test_trigger_option.py)."""

import os

from core_runtime import FlowSpec, step


class UpstreamFlow(FlowSpec):
    @step
    def start(self):
        self.model = os.environ.get("UPSTREAM_MODEL", "m1")
        if os.environ.get("UPSTREAM_FAIL"):
            raise RuntimeError("asked to fail")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    UpstreamFlow()
