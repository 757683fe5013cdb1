"""Parameter names with an underscore and with a dash, and a bool parameter: how their options are spelled."""

from core_runtime import FlowSpec, Parameter, step


class CliSpellFlow(FlowSpec):
    learning_rate = Parameter("learning_rate", default=0.1, type=float)
    max_depth = Parameter("max-depth", default=3, type=int)
    shuffle = Parameter("shuffle", default=False, type=bool)

    @step
    def start(self):
        print("values", self.learning_rate, self.max_depth, self.shuffle)
        self.next(self.end)

    @step
    def end(self):
        """The run's data: the parameters' values."""


if __name__ == "__main__":
    CliSpellFlow()
