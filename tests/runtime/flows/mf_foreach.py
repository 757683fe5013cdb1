from core_runtime import FlowSpec, step


class GenreFlow(FlowSpec):
    """A foreach: one task per genre, joined back into one list."""

    @step
    def start(self):
        self.genres = ["jazz", "folk", "techno"]
        self.next(self.describe, foreach="genres")

    @step
    def describe(self):
        self.genre = self.input
        self.blurb = f"{self.input} has {len(self.input)} letters"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.blurbs = [inp.blurb for inp in inputs]
        self.next(self.end)

    @step
    def end(self):
        print("\n".join(self.blurbs))


if __name__ == "__main__":
    GenreFlow()
