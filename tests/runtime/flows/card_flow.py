"""Cards: a default card (artifact table) and a report card built with current.card."""

from core_runtime import FlowSpec, card, current, step
from core_runtime.cards import Markdown, Table


class CardFlow(FlowSpec):
    @card
    @step
    def start(self):
        self.accuracy = 0.93
        self.next(self.report)

    @card(type="blank", id="report")
    @card
    @step
    def report(self):
        current.card["report"].append(Markdown("# Model report\nAccuracy is **good**."))
        current.card["report"].append(Table([["accuracy", self.accuracy]], headers=["metric", "value"]))
        current.card.append(Markdown("default section"))
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CardFlow()
