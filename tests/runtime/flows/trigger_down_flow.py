"""@trigger_on_finish: `--trigger UpstreamFlow/<id>` stands in for the finished run locally."""

from core_runtime import FlowSpec, current, step, trigger_on_finish


@trigger_on_finish(flows=["UpstreamFlow", "OtherFlow"])
class TriggeredFlow(FlowSpec):
    @step
    def start(self):
        trig = getattr(current, "trigger", None)
        self.triggered = trig is not None
        if trig is not None:
            self.models = [run.data.model for run in trig.runs]
            self.newest = trig.run.data.model
            self.events = [(e.name, e.id, e.type) for e in trig]
            self.by_flow = trig["UpstreamFlow"].pathspec
            self.has_other = "OtherFlow" in trig
        self.next(self.end)

    @step
    def end(self):
        # A second forked task reads through the client too (its own connection).
        trig = getattr(current, "trigger", None)
        self.end_model = trig.run.data.model if trig is not None else None


if __name__ == "__main__":
    TriggeredFlow()
