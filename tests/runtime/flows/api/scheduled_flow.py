"""A flow written for a production scheduler: @schedule, @trigger_on_finish; a local run ignores
them (as Metaflow's does) and records them with the flow."""

from core_runtime import FlowSpec, schedule, step, trigger_on_finish


@trigger_on_finish(flow="IngestFlow")
@schedule(daily=True, timezone="Europe/Paris")
class ScheduledFlow(FlowSpec):
    @step
    def start(self):
        self.ran = True
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ScheduledFlow()
