"""The PATHSPEC argument of ``spin``: which step, and optionally which past run and task.

Accepted as Metaflow 2.19 accepts it: ``step``, ``run/step``, ``run/step/task``,
``Flow/run/step`` and ``Flow/run/step/task``.
"""

from __future__ import annotations

from dataclasses import dataclass

FORMS = ("step", "run_id/step", "run_id/step/task_id", "Flow/run_id/step", "Flow/run_id/step/task_id")


class SpinPathspecError(ValueError):
    pass


@dataclass(frozen=True)
class SpinTarget:
    step: str
    run_id: str | None = None
    task_id: str | None = None


def parse_spin_pathspec(text: str, flow_name: str) -> SpinTarget:
    parts = text.strip("/").split("/") if text else []
    if not parts or not all(parts) or len(parts) > 4:
        raise SpinPathspecError(f"spin: invalid pathspec {text!r}; expected one of: {', '.join(FORMS)}")
    if len(parts) == 4 and parts[0] != flow_name:
        raise SpinPathspecError(f"spin: the pathspec {text!r} names flow {parts[0]!r}, "
                                f"but this file defines {flow_name!r}")
    if len(parts) == 4:
        return SpinTarget(parts[2], parts[1], parts[3])
    if len(parts) == 3:
        if parts[0] == flow_name:
            return SpinTarget(parts[2], parts[1])
        return SpinTarget(parts[1], parts[0], parts[2])
    if len(parts) == 2:
        return SpinTarget(parts[1], parts[0])
    return SpinTarget(parts[0])
