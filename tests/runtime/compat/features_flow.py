"""Config with config_expr, class constants, @project, @environment, @retry, @catch and a user
step decorator — the 2.19 features a flow can combine."""

import os

from core_runtime import (
    Config,
    FlowSpec,
    Parameter,
    catch,
    config_expr,
    current,
    environment,
    project,
    retry,
    step,
    user_step_decorator,
)


@user_step_decorator
def tagged(step_name, flow, inputs):
    yield
    flow.decorated = step_name


@project(name="compat_demo")
class FeaturesFlow(FlowSpec):
    threshold = 0.5
    cfg = Config("cfg", default_value={"mode": "fast", "tries": 2})
    scale = Parameter("scale", default=config_expr("cfg").tries)

    @environment(vars={"MODE": config_expr("cfg.mode")})
    @tagged
    @step
    def start(self):
        self.mode = os.environ["MODE"]
        self.params = sorted(current.parameter_names)
        self.next(self.flaky)

    @retry(times=2, minutes_between_retries=0)
    @step
    def flaky(self):
        self.tried = current.retry_count
        if current.retry_count < 1:
            raise RuntimeError("transient")
        self.next(self.risky)

    @catch(var="problem", print_exception=False)
    @step
    def risky(self):
        self.partial = "set before the error"
        raise ValueError(f"bad input {self.scale}")
        self.next(self.end)

    @step
    def end(self):
        self.outcome = (self.problem.type, self.problem.exception, self.threshold,
                        current.project_name, current.branch_name)


if __name__ == "__main__":
    FeaturesFlow()
