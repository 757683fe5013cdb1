"""start (a blank card "notes", lines on stdout and stderr, plain artifacts) -> end.

Run by pip metaflow (through the ingest service) and, with the import swapped, by core_runtime:
tests/ingest/test_sources.py reads both runs through the one source interface.
"""

import sys

from metaflow import FlowSpec, card, current, step
from metaflow.cards import Markdown


class SeamFlow(FlowSpec):
    """One flow, two writers."""

    @card(type="blank", id="notes")
    @step
    def start(self):
        self.values = [1, 2, 3]
        self.label = "seam"
        for i in range(3):
            print(f"seam line {i}")
        print("seam warning", file=sys.stderr)
        current.card["notes"].append(Markdown("# Notes\nfrom **start**"))
        self.next(self.end)

    @step
    def end(self):
        print("seam done", self.label)


if __name__ == "__main__":
    SeamFlow()
