"""@card: a model report with markdown and a table, plus the default artifacts card.

    python examples/card_report.py run
"""

from core_runtime import FlowSpec, card, current, step
from core_runtime.cards import Markdown, Table


class CardReportFlow(FlowSpec):
    """Scores a toy classifier and writes an HTML report."""

    @card
    @step
    def start(self):
        self.labels = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1]
        self.predictions = [1, 0, 1, 0, 0, 1, 1, 0, 1, 1]
        self.next(self.report)

    @card(type="blank", id="report")
    @step
    def report(self):
        pairs = list(zip(self.labels, self.predictions))
        tp = sum(1 for y, p in pairs if y == p == 1)
        fp = sum(1 for y, p in pairs if y == 0 and p == 1)
        fn = sum(1 for y, p in pairs if y == 1 and p == 0)
        self.precision = tp / (tp + fp)
        self.recall = tp / (tp + fn)
        current.card["report"].append(Markdown("# Classifier report\nScores on the hold-out set."))
        current.card["report"].append(Table([["precision", f"{self.precision:.2f}"],
                                             ["recall", f"{self.recall:.2f}"]],
                                            headers=["metric", "value"]))
        self.next(self.end)

    @step
    def end(self):
        print(f"precision {self.precision:.2f} recall {self.recall:.2f}")


if __name__ == "__main__":
    CardReportFlow()
