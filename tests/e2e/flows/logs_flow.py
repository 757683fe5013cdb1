"""A flow whose train step writes a longer, ANSI-coloured log (for the log view tests)."""

from core_runtime import FlowSpec, card, current, step
from core_runtime.cards import Markdown

GREEN, YELLOW, RED, DIM, RESET = "\x1b[32m", "\x1b[33m", "\x1b[1;31m", "\x1b[2m", "\x1b[0m"


class LogsFlow(FlowSpec):
    """start -> train (300 log lines) -> end (a card)."""

    @step
    def start(self):
        """Set up."""
        self.epochs = 60
        self.next(self.train)

    @step
    def train(self):
        """Pretend to train, logging like a real trainer."""
        loss = 1.0
        for epoch in range(1, self.epochs + 1):
            loss *= 0.95
            print(f"{DIM}[trainer]{RESET} {GREEN}INFO{RESET} epoch {epoch:3d} loss={loss:.4f} lr=0.010")
            for batch in range(4):
                print(f"{DIM}[trainer]{RESET}   batch {batch} of epoch {epoch} ok")
            if epoch % 20 == 0:
                print(f"{DIM}[trainer]{RESET} {YELLOW}WARN{RESET} checkpoint {epoch // 20} written late")
        print(f"{RED}ERROR{RESET} validation skipped: no holdout set (this is a demo)")
        self.final_loss = loss
        self.next(self.end)

    @card(type="blank", id="summary")
    @step
    def end(self):
        """Report."""
        current.card["summary"].append(Markdown(f"# Training summary\nFinal loss {self.final_loss:.4f}"))
        print("final loss", round(self.final_loss, 4))


if __name__ == "__main__":
    LogsFlow()
