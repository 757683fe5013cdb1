"""One step printing a million lines: the log view must open it at its tail without loading it."""

import sys

from core_runtime import FlowSpec, step


class BigLogFlow(FlowSpec):
    """start (1,000,000 lines of stdout) -> end."""

    @step
    def start(self):
        """Print a million numbered lines in large writes (fast, but still a million lines)."""
        block = 10_000
        for base in range(0, 1_000_000, block):
            sys.stdout.write("".join(f"row {i + 1} value={(i * 7919) % 1000}\n" for i in range(base, base + block)))
        sys.stdout.flush()
        self.next(self.end)

    @step
    def end(self):
        """Done."""


if __name__ == "__main__":
    BigLogFlow()
