"""@pypi / @conda environments of a run: built (or found) before the run starts, then used by every
task of their steps, and recorded on each task (metadata ``environment`` and notices)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core_runtime.environments.build import BuiltEnv, EnvironmentBuildError, ensure, env_root, runtime_path
from core_runtime.environments.decorators import conda, conda_base, pypi, pypi_base
from core_runtime.environments.spec import EnvSpec, step_env

__all__ = ["EnvironmentBuildError", "StepEnvironments", "conda", "conda_base", "prepare_environments", "pypi",
           "pypi_base"]

CONDA_NOTICE = ("@conda: no conda channel is reachable from this machine, so the packages of @conda "
                "steps are installed from the Python package index (pip) instead; a package that "
                "exists only on conda channels cannot be installed.")


@dataclass
class StepEnvironments:
    by_step: dict[str, BuiltEnv]
    pythonpath: str
    notices: dict[str, list[str]] = field(default_factory=dict)

    def python_for(self, step: str) -> tuple[str, str] | None:
        env = self.by_step.get(step)
        return (env.python, self.pythonpath) if env is not None else None

    def metadata(self, step: str) -> list[tuple[str, str, str]]:
        env = self.by_step.get(step)
        if env is None:
            return []
        out = [("environment", env.describe(), "environment")]
        out += [("environment-notice", n, "notice") for n in self.notices.get(step, [])]
        return out


def prepare_environments(flow_cls: type, graph: Any, settings: Any, say: Callable[[str], None],
                         only: list[str] | None = None) -> StepEnvironments | None:
    """Build the environments the flow's steps (or ``only`` these) ask for; None when none asks."""
    specs: dict[str, EnvSpec] = {}
    for step in only if only is not None else graph.steps:
        spec = step_env(flow_cls, step)
        if spec is not None:
            specs[step] = spec
    if not specs:
        return None
    root = env_root(settings)
    say("Bootstrapping virtual environment(s) ...")
    if any(s.kind == "conda" for s in specs.values()):
        say(CONDA_NOTICE)
    built: dict[EnvSpec, BuiltEnv] = {}
    by_step: dict[str, BuiltEnv] = {}
    notices: dict[str, list[str]] = {}
    for step, spec in specs.items():
        line = graph.steps[step].line
        short = f"@{spec.kind} on step '{step}'"
        who = f"{short} ({graph.file}:{line})"
        if spec not in built:
            built[spec] = ensure(spec, root, who=who, say=say, short_who=short)
            notice = built[spec].notice
            if notice:
                say(notice)
        env = by_step[step] = built[spec]
        notices[step] = ([CONDA_NOTICE] if spec.kind == "conda" else []) + ([env.notice] if env.notice else [])
        if spec.skipped:
            notices[step].append(f"@conda: {', '.join(spec.skipped)} come with the environment itself; "
                                 "not installed separately.")
    reused = sum(1 for b in built.values() if b.reused)
    say(f"Environments ready: {len(built)} ({reused} already built).")
    return StepEnvironments(by_step, runtime_path(root), notices)
