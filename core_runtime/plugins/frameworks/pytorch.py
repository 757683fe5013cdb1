"""``@pytorch_parallel``: a ``@parallel`` step whose tasks find each other through the
environment variables of PyTorch's distributed package, as in Metaflow.

The gang itself comes from ``self.next(self.train, num_parallel=N)``; this decorator only sets
``MASTER_ADDR``, ``MASTER_PORT``, ``NODE_RANK``, ``WORLD_SIZE`` and ``NUM_NODES`` (from
``current.parallel``) in each task before the step runs.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from core_runtime.current import current
from core_runtime.decorators import StepDecorator


class PytorchParallelDecorator(StepDecorator):
    name = "pytorch_parallel"
    defaults: ClassVar[dict[str, Any]] = {"master_port": None}
    IS_PARALLEL = True

    def task_pre_step(self, step_name: str, task_datastore: Any, metadata: Any, run_id: str, task_id: str,
                      flow: Any, graph: Any, retry_count: int, max_user_code_retries: int,
                      ubf_context: Any, inputs: Any) -> None:
        self.setup_distributed_env(flow)

    def setup_distributed_env(self, flow: Any) -> None:
        setup_torch_distributed(self.attributes.get("master_port"))


def setup_torch_distributed(master_port: Any = None) -> None:
    """The variables torch.distributed's ``env://`` rendezvous reads, for this task of the gang."""
    if not master_port:
        try:
            # A port derived from the run id, so two runs on one machine rarely collide.
            master_port = 51000 + abs(int(current.run_id or "")) % 10000
        except ValueError:
            master_port = 51001
    gang = current.parallel
    os.environ["MASTER_PORT"] = str(master_port)
    os.environ["MASTER_ADDR"] = gang.main_ip
    os.environ["NODE_RANK"] = str(gang.node_index)
    os.environ["WORLD_SIZE"] = str(gang.num_nodes)
    os.environ["NUM_NODES"] = str(gang.num_nodes)
    os.environ["PL_TORCH_DISTRIBUTED_BACKEND"] = "gloo"
