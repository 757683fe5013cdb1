"""Metaflow's S3 client inside a flow: objects keyed by the run, written in one step, read in the next."""

from core_runtime import S3, FlowSpec, step


class S3ToolsFlow(FlowSpec):
    @step
    def start(self):
        with S3(run=self) as s3:
            self.url = s3.put("model/weights.txt", "w=1", metadata={"epoch": 3})
            s3.put_many([(f"shard/{i}", str(i)) for i in range(3)])
        self.next(self.end)

    @step
    def end(self):
        with S3(run=self) as s3:
            weights = s3.get("model/weights.txt")
            self.weights, self.epoch = weights.text, weights.metadata["epoch"]
            self.shards = sorted(o.text for o in s3.get_recursive(["shard"]))


if __name__ == "__main__":
    S3ToolsFlow()
