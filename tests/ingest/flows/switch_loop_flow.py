"""Switch and recursion recorded by the real metaflow: start switches on a parameter to fast or slow
-> loop (recursive, runs `rounds` times) -> end. The flow of issue 14."""

from metaflow import FlowSpec, Parameter, step


class SwitchLoopFlow(FlowSpec):
    """Switch on a parameter, then loop a step."""

    mode = Parameter("mode", default="fast", help="fast or slow")
    rounds = Parameter("rounds", default=3, help="how often loop runs")

    @step
    def start(self):
        """Pick a path by the mode parameter."""
        self.route = self.mode
        self.next({"fast": self.fast, "slow": self.slow}, condition="route")

    @step
    def fast(self):
        """The fast path."""
        self.path = "fast"
        self.count = 0
        self.next(self.loop)

    @step
    def slow(self):
        """The slow path."""
        self.path = "slow"
        self.count = 0
        self.next(self.loop)

    @step
    def loop(self):
        """Runs again until count reaches rounds."""
        self.count += 1
        print("loop", self.count)
        self.status = "again" if self.count < self.rounds else "done"
        self.next({"again": self.loop, "done": self.end}, condition="status")

    @step
    def end(self):
        """The end."""
        print("count", self.count, "via", self.path)


if __name__ == "__main__":
    SwitchLoopFlow()
