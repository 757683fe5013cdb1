"""Backend fixture flow: a card, tags, a big log, assorted artifact types."""

from core_runtime import FlowSpec, card, current, step
from core_runtime.cards import Markdown


class ReportFlow(FlowSpec):
    """start (card, many log lines) -> end."""

    @card
    @card(type="blank", id="report")
    @step
    def start(self):
        """Write artifacts and a long log."""
        self.numbers = list(range(10))
        self.config = {"alpha": 0.5, "layers": [64, 32]}
        self.text = "hello world"
        for i in range(2500):
            print(f"line {i} needle-{i % 500}")
        print("to stderr", file=__import__("sys").stderr)
        current.card["report"].append(Markdown("# Report\nall **good**"))
        self.next(self.end)

    @step
    def end(self):
        """Done."""
        self.done = True


if __name__ == "__main__":
    ReportFlow()
