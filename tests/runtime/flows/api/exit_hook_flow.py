"""@exit_hook: hooks of the outcome run after the run, with the client Run when they ask for it."""

from core_runtime import FlowSpec, Parameter, exit_hook, step


def notify(run=None):
    print(f"notify: {run.pathspec} successful={run.successful} answer={run.data.answer}")


def cleanup():
    print("cleanup: nothing to undo")


def page_oncall(**kwargs):
    print(f"page_oncall: {kwargs['run'].pathspec} failed")


def broken():
    raise RuntimeError("hook bug")


@exit_hook(on_success=[notify, "cleanup"], on_error=[page_oncall])
@exit_hook(on_success=[broken, cleanup], on_error=["cleanup"])
class ExitHookFlow(FlowSpec):
    fail = Parameter("fail", default=False)

    @step
    def start(self):
        if self.fail:
            raise ValueError("asked to fail")
        self.answer = 42
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ExitHookFlow()
