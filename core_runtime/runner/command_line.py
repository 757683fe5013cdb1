"""Keyword arguments of the Runner API -> the command line of ``python flow.py ...``.

``Runner("flow.py", quiet=True).run(alpha=5, tags=["a", "b"])`` becomes
``python flow.py --quiet run --runner-attribute-file F --tag a --tag b --alpha 5``, as Metaflow's
click API builds it: snake_case names become --kebab-case options (a Parameter's option is its
name as declared), a list repeats the option, a bool option flag is ``--x`` / ``--no-x`` (a bool
Parameter takes a value, ``--x True``), a dict or list parameter value is passed as JSON. An argument
that is neither an option of the command nor a Parameter of the flow is a ValueError, raised
before anything starts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

# name -> (option, kind): "value", "flag" (--x / --no-x), "multi" (repeated), "pairs" (NAME VALUE)
Spec = dict[str, tuple[str, str]]

TOP_LEVEL: Spec = {
    "quiet": ("quiet", "flag"), "metadata": ("metadata", "value"), "environment": ("environment", "value"),
    "force_rebuild_environments": ("force-rebuild-environments", "flag"),
    "datastore": ("datastore", "value"), "datastore_root": ("datastore-root", "value"),
    "package_suffixes": ("package-suffixes", "value"), "with_": ("with", "multi"),
    "decospecs": ("with", "multi"), "pylint": ("pylint", "flag"), "event_logger": ("event-logger", "value"),
    "monitor": ("monitor", "value"), "config": ("config", "pairs"),
    "config_value": ("config-value", "pairs"), "branch": ("branch", "value"),
    "production": ("production", "flag"), "mode": ("mode", "value"),
}

_RUN_COMMON: Spec = {
    "tags": ("tag", "multi"), "max_workers": ("max-workers", "value"),
    "max_num_splits": ("max-num-splits", "value"), "max_log_size": ("max-log-size", "value"),
    "decospecs": ("with", "multi"), "run_id_file": ("run-id-file", "value"),
}

COMMANDS: dict[str, Spec] = {
    "run": {**_RUN_COMMON, "user_namespace": ("namespace", "value")},
    "resume": {**_RUN_COMMON, "origin_run_id": ("origin-run-id", "value"),
               "step_to_rerun": ("", "positional"), "clone_only": ("clone-only", "flag"),
               "reentrant": ("reentrant", "flag"), "run_id": ("run-id", "value")},
    "spin": {"pathspec": ("", "positional"), "artifacts_module": ("artifacts-module", "value"),
             "persist": ("persist", "flag"), "skip_decorators": ("skip-decorators", "flag"),
             "max_log_size": ("max-log-size", "value"), "run_id_file": ("run-id-file", "value")},
}


def _scalar(value: Any) -> str:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return str(value)


def _option(option: str, kind: str, value: Any) -> list[str]:
    if value is None:
        return []
    if kind == "positional":
        return [_scalar(value)]
    if kind == "flag":
        return [f"--{option}" if value else f"--no-{option}"]
    if kind == "multi":
        items = [value] if isinstance(value, str) or not isinstance(value, Iterable) else list(value)
        return [part for item in items for part in (f"--{option}", str(item))]
    if kind == "pairs":
        pairs = value.items() if isinstance(value, dict) else value
        out: list[str] = []
        for name, item in pairs:
            out += [f"--{option}", str(name), item if isinstance(item, str) else json.dumps(item)]
        return out
    return [f"--{option}", _scalar(value)]


def top_level_args(kwargs: dict[str, Any]) -> list[str]:
    unknown = sorted(set(kwargs) - set(TOP_LEVEL))
    if unknown:
        raise ValueError(f"Unknown argument: {unknown[0]!r}, possible args are: {', '.join(sorted(TOP_LEVEL))}")
    out: list[str] = []
    for name, value in kwargs.items():
        option, kind = TOP_LEVEL[name]
        out += _option(option, kind, value)
    return out


def command_args(command: str, kwargs: dict[str, Any], parameters: dict[str, tuple[str, str]]) -> list[str]:
    """``parameters``: the flow's Parameters, keyword name -> (option name as declared, "flag" for an
    ``is_flag=True`` Parameter else "value"): ``Parameter("learning_rate")`` is ``--learning_rate``,
    ``Parameter("max-depth")`` (keyword ``max_depth``) ``--max-depth``, a bool ``--shuffle True``."""
    spec = COMMANDS[command]
    positional: list[str] = []
    options: list[str] = []
    for name, value in kwargs.items():
        if name in spec:
            option, kind = spec[name]
            (positional if kind == "positional" else options).extend(_option(option, kind, value))
        elif command == "run" and name in parameters:
            option, kind = parameters[name]
            if kind == "flag":
                options += [f"--{option}"] if value else []
            elif value is not None:
                options += [f"--{option}", _scalar(value)]
        else:
            possible = sorted(spec) + (sorted(parameters) if command == "run" else [])
            raise ValueError(f"Unknown argument: {name!r}, possible args are: {', '.join(possible)}")
    return positional + options
