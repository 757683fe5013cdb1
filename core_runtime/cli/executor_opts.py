"""``--with ray|kubernetes|batch`` and FLOWSCOPE_RAY_ADDRESS: which executors a run gets.

Connecting to Ray (and checking the cluster shares the datastore) happens before the run row is
created, so a cluster that cannot take the run is refused with one line and nothing recorded.
"""

from __future__ import annotations

from typing import Any

from core_runtime.cli.args import UsageError
from core_runtime.compute import REMOTE_DECORATORS, step_request

WITH_CHOICES = ("ray", *REMOTE_DECORATORS)


def remote_all(cmd: Any) -> str | None:
    """The last ``--with ray|kubernetes|batch``, or None. Other ``--with`` values are decorators that
    ``core_runtime.cli.decospecs`` adds to every step (``--with kubernetes`` is both)."""
    chosen: str | None = None
    for value in cmd.decospecs:
        name = value.split(":", 1)[0].strip()
        if name in WITH_CHOICES:
            chosen = name
    return chosen


def open_remote(cmd: Any, info: Any, settings: Any) -> tuple[Any, str | None]:
    """(the Ray executor or None, the --with value)."""
    from core_runtime.cli.main import CliError

    every = remote_all(cmd)
    wanted = every is not None or any(step_request(getattr(info.flow_cls, s)).remote for s in info.graph.steps)
    if every == "ray" and not settings.ray_address:
        raise UsageError("--with ray needs a Ray cluster: set FLOWSCOPE_RAY_ADDRESS to its head's host:port")
    if not wanted or not settings.ray_address:
        return None, every
    from core_runtime.scheduler.code_package import CodePackageError
    from core_runtime.scheduler.ray_executor import RayExecutor, RayExecutorError

    try:
        executor = RayExecutor(settings.ray_address, settings, info.file)
    except (RayExecutorError, CodePackageError) as exc:
        raise CliError(str(exc)) from None
    try:
        executor.check_datastore()
    except RayExecutorError as exc:
        executor.close()
        raise CliError(str(exc)) from None
    return executor, every
