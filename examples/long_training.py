"""A long-running flow (about 45 s) that prints its progress every second: open its task in
the UI while it runs and watch the log grow.

    python examples/long_training.py run --epochs 45
"""

import math
import time

from core_runtime import FlowSpec, Parameter, current, step


class LongTrainingFlow(FlowSpec):
    """One epoch per second, with a loss curve in the logs."""

    epochs = Parameter("epochs", help="Epochs (one per second)", default=45)

    @step
    def start(self):
        self.next(self.train)

    @step
    def train(self):
        self.history = []
        for epoch in range(1, self.epochs + 1):
            loss = 2.0 * math.exp(-epoch / 12) + 0.05
            self.history.append(round(loss, 4))
            bar = "#" * (20 * epoch // self.epochs)
            print(f"epoch {epoch:3d}/{self.epochs} [{bar:<20}] loss={loss:.4f}", flush=True)
            time.sleep(1)
        self.final_loss = self.history[-1]
        self.next(self.end)

    @step
    def end(self):
        print(f"{current.pathspec}: final loss {self.final_loss}")


if __name__ == "__main__":
    LongTrainingFlow()
