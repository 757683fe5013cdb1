"""Remote-compute step decorators (@kubernetes, @batch) and the resource request of a step.

The decorators take Metaflow's arguments. They do not talk to Kubernetes or AWS Batch: a step
that carries one runs on the distributed executor (Ray) when one is configured, and locally
otherwise, with a notice recorded on the task. Their cpu/memory/gpu, merged with @resources the
way Metaflow merges them (the larger value of each wins), become the step's resource request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core_runtime.decorators import DecoratorError, _decorator_factory, find_decorator

# Metaflow 2.19's argument names; values other than the resources are recorded, not acted on.
KUBERNETES_ARGS = ("cpu", "memory", "disk", "image", "image_pull_policy", "image_pull_secrets",
                   "service_account", "secrets", "node_selector", "namespace", "gpu", "gpu_vendor",
                   "tolerations", "labels", "annotations", "use_tmpfs", "tmpfs_tempdir", "tmpfs_size",
                   "tmpfs_path", "persistent_volume_claims", "shared_memory", "port", "compute_pool",
                   "executable", "hostname_resolution_timeout", "qos", "extended_resources",
                   "security_context")
BATCH_ARGS = ("cpu", "gpu", "memory", "image", "queue", "iam_role", "execution_role", "shared_memory",
              "max_swap", "swappiness", "inferentia", "trainium", "efa", "host_volumes", "efs_volumes",
              "use_tmpfs", "aws_batch_tags", "tmpfs_tempdir", "tmpfs_size", "tmpfs_path",
              "ephemeral_storage", "log_driver", "log_options", "executable", "privileged")
REMOTE_DECORATORS = ("kubernetes", "batch")
# What a remote decorator asks for where it leaves a resource out (Metaflow's defaults).
DEFAULT_REQUEST = {"cpu": 1.0, "memory": 4096.0, "gpu": 0.0}


def _amount(deco: str, name: str, value: Any) -> float | None:
    if value is None:
        return None
    try:
        num = float(value)
    except (TypeError, ValueError):
        raise DecoratorError(f"@{deco}({name}={value!r}): expected a number") from None
    if num < 0:
        raise DecoratorError(f"@{deco}({name}={value!r}): must not be negative")
    return num


def _builder(deco: str, allowed: tuple[str, ...]) -> Any:
    def build(**kwargs: Any) -> dict[str, Any]:
        unknown = sorted(set(kwargs) - set(allowed))
        if unknown:
            raise DecoratorError(f"@{deco} got unknown argument(s) {', '.join(unknown)} "
                                 f"(it takes: {', '.join(allowed)})")
        out = dict(kwargs)
        for key in ("cpu", "memory", "gpu", "disk"):
            if key in out:
                out[key] = _amount(deco, key, out[key])
        return out

    return build


kubernetes = _decorator_factory("kubernetes", _builder("kubernetes", KUBERNETES_ARGS))
batch = _decorator_factory("batch", _builder("batch", BATCH_ARGS))


@dataclass(frozen=True)
class ComputeRequest:
    """What one step asks for: where (``remote``: the decorator that asks for a cluster) and how much."""

    remote: str | None          # "kubernetes" / "batch" / None
    cpu: float
    memory_mb: float
    gpu: float
    declared: bool              # some decorator (@resources or a remote one) named resources

    def describe(self) -> str:
        parts = [f"cpu={self.cpu:g}", f"memory={self.memory_mb:g} MB"]
        if self.gpu:
            parts.append(f"gpu={self.gpu:g}")
        return ", ".join(parts)


def step_request(fn: Any) -> ComputeRequest:
    """The step's request: the larger of @resources and the remote decorator, per resource.

    A step with neither asks for one CPU and no memory (Ray's default for a task).
    """
    asked: dict[str, list[float]] = {"cpu": [], "memory": [], "gpu": []}
    remote = None
    for name in ("resources", *REMOTE_DECORATORS):
        deco = find_decorator(fn, name)
        if deco is None:
            continue
        if name in REMOTE_DECORATORS:
            remote = remote or name
        for key, values in asked.items():
            value = deco.attributes.get(key)
            if value is None and name in REMOTE_DECORATORS:
                value = DEFAULT_REQUEST[key]
            if value is not None:
                values.append(float(value))
    declared = bool(asked["cpu"] or asked["memory"])
    return ComputeRequest(remote, max(asked["cpu"], default=1.0), max(asked["memory"], default=0.0),
                          max(asked["gpu"], default=0.0), declared)
