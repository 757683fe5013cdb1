from core_runtime import FlowSpec, step


class RouteFilesFlow(FlowSpec):
    """Each file of a foreach goes to the handler for its kind; a join collects the results."""

    @step
    def start(self):
        self.files = ["a.csv", "b.json", "c.csv"]
        self.next(self.inspect, foreach="files")

    @step
    def inspect(self):
        self.kind = self.input.rsplit(".", 1)[1]
        self.next({"csv": self.read_csv, "json": self.read_json}, condition="kind")

    @step
    def read_csv(self):
        self.result = "table " + self.input
        self.next(self.collect)

    @step
    def read_json(self):
        self.result = "document " + self.input
        self.next(self.collect)

    @step
    def collect(self, inputs):
        self.results = sorted(inp.result for inp in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("read:", ", ".join(self.results))


if __name__ == "__main__":
    RouteFilesFlow()
