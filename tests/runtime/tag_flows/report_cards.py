"""A step with two cards — the default one and a blank one with an id — to look at from the
command line (card list / get / view)."""

from core_runtime import FlowSpec, card, current, step
from core_runtime.cards import Markdown


class ReportCardsFlow(FlowSpec):
    @card
    @card(type="blank", id="summary")
    @step
    def start(self):
        self.total = 6
        current.card["summary"].append(Markdown("# Nightly summary\nTotal: 6"))
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ReportCardsFlow()
