"""@pytorch_parallel: a gang of two whose tasks get torch.distributed's variables."""

import os

from core_runtime import FlowSpec, pytorch_parallel, step


class TorchGangFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, num_parallel=2)

    @pytorch_parallel
    @step
    def train(self):
        self.env = tuple(os.environ[k] for k in ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK",
                                                 "WORLD_SIZE", "NUM_NODES"))
        self.next(self.join)

    @step
    def join(self, inputs):
        self.envs = sorted(i.env for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TorchGangFlow()
