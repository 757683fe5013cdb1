"""Fails in the foreach body until RESUME_FLOW_OK is set, so it can be resumed."""

import os

from core_runtime import FlowSpec, Parameter, current, step


class ResumeFlow(FlowSpec):
    scale = Parameter("scale", default=10)

    @step
    def start(self):
        self.shards = ["a", "b", "c"]
        self.next(self.prep)

    @step
    def prep(self):
        self.prepared_by = current.run_id
        self.next(self.train, foreach="shards")

    @step
    def train(self):
        if self.input == "b" and not os.environ.get("RESUME_FLOW_OK"):
            raise RuntimeError("shard b is broken")
        self.score = len(self.input) * self.scale
        print("trained", self.input, self.score)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.score for i in inputs)
        self.merge_artifacts(inputs, include=["prepared_by"])
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total, "prepared by run", self.prepared_by, "origin", current.origin_run_id)


if __name__ == "__main__":
    ResumeFlow()
