"""Reads the latest NsProducerFlow run in a step, in the namespace the run was started with."""

from core_runtime import Flow, FlowSpec, get_namespace, step


class NsConsumerFlow(FlowSpec):
    @step
    def start(self):
        self.ns = get_namespace()
        self.value = Flow("NsProducerFlow").latest_run.data.value
        self.next(self.end)

    @step
    def end(self):
        print("ns", self.ns, "value", self.value)


if __name__ == "__main__":
    NsConsumerFlow()
