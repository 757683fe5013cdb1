"""Parameters of every type, and a TOML Config used in a decorator and in steps."""

from core_runtime import Config, FlowSpec, Parameter, current, retry, step


class ConfigFlow(FlowSpec):
    cfg = Config("cfg", default="config_flow.toml")
    epochs = Parameter("epochs", help="Training epochs", default=3)
    rate = Parameter("rate", help="Learning rate", default=0.1)
    verbose = Parameter("verbose", help="Print more", default=False)
    model = Parameter("model", help="Model name", required=True)
    layers = Parameter("layers", help="Layer sizes (JSON)", default=[8, 4])

    @step
    def start(self):
        self.summary = (self.epochs, self.rate, self.verbose, self.model, self.layers)
        self.next(self.a, self.b)

    @retry(times=cfg.retries, minutes_between_retries=0)
    @step
    def a(self):
        if current.retry_count < self.cfg.retries:
            raise RuntimeError(f"failing attempt {current.retry_count}")
        self.from_a = current.retry_count
        self.next(self.join)

    @step
    def b(self):
        self.from_b = self.cfg.model.depth
        self.next(self.join)

    @step
    def join(self, inputs):
        self.both = (inputs.a.from_a, inputs.b.from_b, len(inputs))
        # Parameters are visible after a join without merge_artifacts.
        self.model_after_join = self.model
        self.next(self.end)

    @step
    def end(self):
        print("pathspec", current.pathspec, "user", current.username)


if __name__ == "__main__":
    ConfigFlow()
