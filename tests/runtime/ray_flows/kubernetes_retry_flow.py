"""A Metaflow-tutorial-style flow: a training step meant for Kubernetes that is retried when its
first attempt fails (as a preempted pod would). Written for this test; only the import differs
from a Metaflow flow."""

from core_runtime import FlowSpec, current, kubernetes, retry, step


class KubernetesRetryFlow(FlowSpec):
    @step
    def start(self):
        self.data = [3, 1, 2]
        self.next(self.train)

    @retry(times=2, minutes_between_retries=0)
    @kubernetes(cpu=1, memory=512)
    @step
    def train(self):
        if current.retry_count == 0:
            raise RuntimeError("the first attempt is lost (a preempted pod)")
        self.model = sorted(self.data)
        print("trained on attempt", current.retry_count)
        self.next(self.end)

    @step
    def end(self):
        print("model", self.model)


if __name__ == "__main__":
    KubernetesRetryFlow()
