"""A flow whose artifact hangs whoever unpickles it (the backend's render worker must time out)."""

import time

from core_runtime import FlowSpec, step


class Sleeper:
    """Unpickling this calls time.sleep(10**6): a stand-in for any pathological artifact."""

    def __reduce__(self):
        return (time.sleep, (10**6,))


class HangFlow(FlowSpec):
    @step
    def start(self):
        self.hang = Sleeper()
        self.fine = 42
        print("<script>alert(1)</script> \x1b]8;;javascript:alert(2)\x1b\\link\x1b]8;;\x1b\\ done")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    HangFlow()
