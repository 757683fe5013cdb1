"""User decorators with Metaflow's API: a generator decorator, a UserStepDecorator that skips a
step, a StepMutator adding @retry, a FlowMutator adding a Parameter."""

from core_runtime import (
    FlowMutator,
    FlowSpec,
    Parameter,
    StepMutator,
    UserStepDecorator,
    current,
    step,
    user_step_decorator,
)


@user_step_decorator
def stamped(step_name, flow, inputs, attributes):
    flow.before = f"{attributes.get('label', 'x')}:{step_name}"
    yield
    flow.after = "done"


class SkipMe(UserStepDecorator):
    def pre_step(self, step_name, flow, inputs=None):
        self.skip_step = True


class Retried(StepMutator):
    def mutate(self, mutable_step):
        mutable_step.add_decorator("retry", deco_kwargs={"times": 2})


class AddsParameter(FlowMutator):
    def pre_mutate(self, mutable_flow):
        mutable_flow.add_parameter("added", Parameter("added", default=7))


@AddsParameter
class DecoratorsFlow(FlowSpec):
    @stamped(label="go")
    @step
    def start(self):
        self.next(self.skipped)

    @SkipMe
    @step
    def skipped(self):
        self.should_not_exist = True
        self.next(self.flaky)

    @Retried
    @step
    def flaky(self):
        if current.retry_count == 0:
            raise RuntimeError("first attempt fails")
        self.attempts = current.retry_count + 1
        self.next(self.end)

    @step
    def end(self):
        self.seen = (self.before, self.after, self.attempts, self.added)


if __name__ == "__main__":
    DecoratorsFlow()
