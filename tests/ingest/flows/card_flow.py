"""start (a default card and a blank card with id "notes") -> middle (@retry, fails once; a default
card with id "report") -> end (no card). Cards are rendered after each task by ``card create``.

With CARD_FLOW_FAIL=1 middle fails on every attempt (a run to ``resume``).
"""

import os

from metaflow import FlowSpec, card, current, retry, step
from metaflow.cards import Markdown


class CardFlow(FlowSpec):
    """Cards: default, custom id, and one on a retried task."""

    @card
    @card(type="blank", id="notes")
    @step
    def start(self):
        self.rows = [1, 2, 3]
        current.card["notes"].append(Markdown("# Notes\nhello from **start**"))
        self.next(self.middle)

    @retry(times=1, minutes_between_retries=0)
    @card(id="report")
    @step
    def middle(self):
        if current.retry_count == 0 or os.environ.get("CARD_FLOW_FAIL"):
            raise ValueError("flaky middle")
        current.card["report"].append(Markdown(f"## Report\nattempt {current.retry_count}"))
        self.total = sum(self.rows)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)


if __name__ == "__main__":
    CardFlow()
