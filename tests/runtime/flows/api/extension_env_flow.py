"""An extension flow decorator's current values reach a step that runs in a @pypi environment
(another interpreter)."""

from core_runtime import FlowSpec, acme_team, current, pypi, step


@acme_team
class ExtensionEnvFlow(FlowSpec):
    @pypi(packages={})
    @step
    def start(self):
        self.team = current.acme_team
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ExtensionEnvFlow()
