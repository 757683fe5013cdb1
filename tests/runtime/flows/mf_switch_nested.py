from core_runtime import FlowSpec, Parameter, step


class ReviewFlow(FlowSpec):
    """Nested cases and a switch inside a static branch.

    The first switch picks a track; the "deep" track switches again on a score. In parallel a
    second branch always runs, and a join meets the two branches.
    """

    track = Parameter("track", default="deep")
    score = Parameter("score", default=7)

    @step
    def start(self):
        self.next(self.review, self.audit)

    @step
    def review(self):
        self.choice = self.track
        self.next({"shallow": self.skim, "deep": self.grade}, condition="choice")

    @step
    def skim(self):
        self.verdict = "skimmed"
        self.next(self.report)

    @step
    def grade(self):
        self.level = "high" if self.score >= 5 else "low"
        self.next({"high": self.praise, "low": self.coach}, condition="level")

    @step
    def praise(self):
        self.verdict = f"praised ({self.score})"
        self.next(self.report)

    @step
    def coach(self):
        self.verdict = f"coached ({self.score})"
        self.next(self.report)

    @step
    def report(self):
        self.summary = "review " + self.verdict
        self.next(self.join)

    @step
    def audit(self):
        self.summary = "audit ok"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.summaries = sorted(inp.summary for inp in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("; ".join(self.summaries))


if __name__ == "__main__":
    ReviewFlow()
