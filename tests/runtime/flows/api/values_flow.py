"""Configs, config_expr, Parameters from every source, IncludeFile, constants, @project,
@environment and @secrets — checked by tests/runtime/test_metaflow_api.py."""

import os

from core_runtime import (
    Config,
    FlowSpec,
    IncludeFile,
    JSONType,
    Parameter,
    config_expr,
    current,
    environment,
    project,
    secrets,
    step,
)


def n_default(ctx):
    return ctx.configs.settings.base * 2


@project(name=config_expr("settings").project)
class ValuesFlow(FlowSpec):
    batch = 64
    settings = Config("settings", default_value={"project": "values", "base": 21, "greeting": "hi"})
    extra = Config("extra", parser="core_runtime.config_parsers.json_parser", default_value='{"k": 1}')
    n = Parameter("n", default=n_default, type=int)
    from_cfg = Parameter("from_cfg", default=config_expr("settings").base, type=int)
    words = Parameter("words", default="a,b,c", separator=",")
    blob = Parameter("blob", default='{"x": [1, 2]}', type=JSONType)
    env_only = Parameter("env_only", default="unset")
    text = IncludeFile("text", default="values_flow_data.txt")
    raw = IncludeFile("raw", default="values_flow_data.txt", is_text=False)
    absent = IncludeFile("absent", required=False)

    @secrets(sources=[{"type": "inline", "id": "x", "options": {"env_vars": {"API_TOKEN": "s3cr3t"}}}])
    @environment(vars={"GREETING": config_expr("settings.greeting.upper()"), "PLAIN": "yes"})
    @step
    def start(self):
        self.env_seen = (os.environ["GREETING"], os.environ["PLAIN"], os.environ["API_TOKEN"] == "s3cr3t")
        self.names = sorted(current.parameter_names)
        self.project = (current.project_name, current.branch_name, current.project_flow_name,
                        current.is_production)
        try:
            self.batch = 1
        except AttributeError:
            self.batch_is_read_only = True
        try:
            self.settings["base"] = 0
        except TypeError:
            self.config_is_read_only = True
        self.next(self.end)

    @step
    def end(self):
        self.summary = (self.n, self.from_cfg, self.words, self.blob, self.env_only,
                        self.settings.greeting, self.extra.k, self.batch)


if __name__ == "__main__":
    ValuesFlow()
