"""An IncludeFile (text and binary) and a Config, run by pip metaflow: the run page shows the
files by size and kind and the Config as JSON (tests/e2e/test_include_config.py)."""

from metaflow import Config, FlowSpec, IncludeFile, Parameter, step


class IncludeConfigFlow(FlowSpec):
    settings = Config("settings", default_value={"greeting": "hi", "sizes": [1, 2, 3]})
    text = IncludeFile("text", default="include_config_data.txt")
    raw = IncludeFile("raw", default="include_config_data.txt", is_text=False)
    alpha = Parameter("alpha", default=0.5)

    @step
    def start(self):
        self.seen = (len(self.text), len(self.raw), self.settings.greeting)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    IncludeConfigFlow()
