"""A small report flow whose runs get tagged after the fact (reviewed, published …)."""

from core_runtime import FlowSpec, step


class NightlyReportFlow(FlowSpec):
    @step
    def start(self):
        self.rows = [3, 1, 2]
        print("loaded", len(self.rows), "rows")
        self.next(self.end)

    @step
    def end(self):
        self.report = {"rows": len(self.rows), "total": sum(self.rows)}
        print("report", self.report)


if __name__ == "__main__":
    NightlyReportFlow()
