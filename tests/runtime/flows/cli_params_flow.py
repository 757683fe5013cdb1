"""Parameters of the kinds users give on the command line: required, typed, JSON, a default function."""

import os

from core_runtime import Config, FlowSpec, IncludeFile, JSONType, Parameter, current, step


def default_batch(ctx):
    return int(os.environ.get("BATCH_SIZE", "32"))


class CliParamsFlow(FlowSpec):
    """python cli_params_flow.py run --dataset NAME [--epochs N] [--shuffle BOOL] [--grid JSON]"""

    dataset = Parameter("dataset", help="Dataset to train on", required=True)
    epochs = Parameter("epochs", help="Passes over the data", default=3, type=int)
    shuffle = Parameter("shuffle", help="Shuffle each epoch", default=True, type=bool)
    grid = Parameter("grid", help="Hyper-parameter grid", type=JSONType, default='{"lr": [0.1]}')
    batch = Parameter("batch", help="Batch size", default=default_batch, type=int)
    notes = IncludeFile("notes", help="Free-form notes")
    settings = Config("settings", default_value={"source": "default"})

    @step
    def start(self):
        self.loaded = f"{self.dataset} loaded"
        if self.dataset == "missing":
            raise ValueError("no dataset named missing")
        self.summary = f"{self.dataset}:{self.epochs}:{self.shuffle}:{self.grid}:{self.batch}"
        print("parameter_names", current.parameter_names)
        self.next(self.end)

    @step
    def end(self):
        print("summary", self.summary)


if __name__ == "__main__":
    CliParamsFlow()
