"""Flow-level decorators: ``@project`` (and the data any flow decorator attaches to the class).

A flow decorator records ``FlowDecoratorSpec(name, attributes)`` in ``cls._fs_flow_decorators``
and may add top-level command-line options (``--branch``, ``--production`` for @project),
which also read ``METAFLOW_<OPTION>`` from the environment as in Metaflow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from core_runtime.decorators import DecoratorError, FlowDecorator

_PROJECT_NAME = re.compile(r"^[a-z0-9_]+$")
_BRANCH_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass
class FlowDecoratorSpec:
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)
    options: dict[str, bool] = field(default_factory=dict)   # top-level option -> takes a value
    plugin: Any = None          # a Metaflow extension's FlowDecorator instance (flow_init runs)


def attach(cls: type, spec: FlowDecoratorSpec, *, allow_multiple: bool = False) -> type:
    specs = list(cls.__dict__.get("_fs_flow_decorators", []))
    if not allow_multiple and any(s.name == spec.name for s in specs):
        raise DecoratorError(f"@{spec.name} is applied twice to flow {cls.__name__}")
    specs.append(spec)
    cls._fs_flow_decorators = specs  # type: ignore[attr-defined]
    return cls


def flow_decorators(cls: type) -> list[FlowDecoratorSpec]:
    out: list[FlowDecoratorSpec] = []
    for klass in reversed(cls.__mro__):
        out.extend(klass.__dict__.get("_fs_flow_decorators", []))
    return out


def find_flow_decorator(cls: type, name: str) -> FlowDecoratorSpec | None:
    return next((d for d in flow_decorators(cls) if d.name == name), None)


def flow_options(cls: type) -> dict[str, bool]:
    """Top-level options the flow's decorators add: option -> takes a value."""
    out: dict[str, bool] = {}
    for d in flow_decorators(cls):
        out.update(d.options)
    return out


def project(cls: type | None = None, *, name: Any = None, branch: Any = None,
            production: Any = False) -> Any:
    """``@project(name="fraud")``: runs get project tags and ``current.project_*`` values."""
    from core_runtime.config_expr import contains_delayed

    if name is None:
        raise DecoratorError("@project needs name=, e.g. @project(name='fraud_model')")
    if not contains_delayed(name) and (not isinstance(name, str) or not _PROJECT_NAME.match(name)):
        raise DecoratorError(f"@project(name={name!r}): use lower-case letters, digits and underscores")
    spec = FlowDecoratorSpec("project", {"name": name, "branch": branch, "production": production},
                             {"branch": True, "production": False})

    def apply(klass: type) -> type:
        return attach(klass, spec)

    return apply(cls) if cls is not None else apply


@dataclass
class ProjectInfo:
    project_name: str
    branch_name: str
    project_flow_name: str
    is_production: bool

    @property
    def system_tags(self) -> list[str]:
        return [f"project:{self.project_name}", f"project_branch:{self.branch_name}"]


def project_info(flow_cls: type, cmd: Any, username: str) -> ProjectInfo | None:
    """Metaflow's naming: ``prod`` (or ``prod.<branch>``) with --production, ``test.<branch>``
    with --branch, else ``user.<username>``."""
    from core_runtime.config_expr import resolve

    spec = find_flow_decorator(flow_cls, "project")
    if spec is None:
        return None
    attrs = resolve(spec.attributes, flow_cls)
    name = attrs["name"]
    if not isinstance(name, str) or not _PROJECT_NAME.match(name):
        raise DecoratorError(f"@project(name={name!r}): use lower-case letters, digits and underscores")
    branch = cmd.top_option("branch") or attrs.get("branch")
    production = bool(cmd.top_option("production")) or bool(attrs.get("production"))
    if branch is not None and not _BRANCH_NAME.match(str(branch)):
        raise DecoratorError(f"--branch {branch!r}: use letters, digits, '_', '-' and '.'")
    if production:
        branch_name = f"prod.{branch}" if branch else "prod"
    elif branch:
        branch_name = f"test.{branch}"
    else:
        branch_name = f"user.{username}"
    return ProjectInfo(name, branch_name, f"{name}.{branch_name}.{flow_cls.__name__}", production)


def plugin_flow_decorator(cls: type[FlowDecorator]) -> Any:
    """The ``@name`` function of a Metaflow extension's FlowDecorator class."""

    def decorator(flow_cls: type | None = None, **kwargs: Any) -> Any:
        def apply(klass: type) -> type:
            plugin = cls(kwargs, statically_defined=True)
            options = {opt: not bool(spec.get("is_flag")) for opt, spec in (cls.options or {}).items()}
            return attach(klass, FlowDecoratorSpec(cls.name, dict(plugin.attributes), options, plugin))

        return apply(flow_cls) if flow_cls is not None else apply

    decorator.__name__ = cls.name
    decorator.__doc__ = cls.__doc__
    return decorator


def init_flow_decorators(flow_cls: type, cmd: Any) -> None:
    """Metaflow's ``flow_init`` of every extension flow decorator, with its options' values
    (command line, else ``METAFLOW_<OPTION>``, else the option's default). What it adds to
    ``current`` stays for every task of the run (tasks are forked from this process)."""
    specs = [d for d in flow_decorators(flow_cls) if d.plugin is not None]
    if not specs:
        return
    flow = flow_cls(use_cli=False)
    graph = getattr(flow, "_graph", None)
    for spec in specs:
        values: dict[str, Any] = {}
        for opt, desc in (type(spec.plugin).options or {}).items():
            given = cmd.top_option(opt)
            if desc.get("is_flag"):
                values[opt] = bool(given) if given is not None else bool(desc.get("default", False))
            else:
                values[opt] = given if given is not None else desc.get("default")
        spec.plugin.flow_init(flow, graph, None, None, None, _echo, _echo, values)


def _echo(*args: Any, **_kwargs: Any) -> None:
    import sys

    sys.stderr.write(" ".join(str(a) for a in args) + "\n")
