"""``--with retry:times=2,minutes_between_retries=0``: a decorator added to every step.

As in Metaflow: ``NAME`` or ``NAME:key=value,key=value``; values are read as JSON, then as a
number, else kept as text. A step that already has the decorator keeps its own.
"""

from __future__ import annotations

import json
import re
from typing import Any

from core_runtime.cli.args import UsageError


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    name, _, body = spec.partition(":")
    name = name.strip()
    attrs: dict[str, Any] = {}
    if body.strip():
        for part in re.split(r",(?=\s*[A-Za-z_]\w*\s*=)", body):
            key, eq, raw = part.partition("=")
            if not eq or not key.strip().isidentifier():
                raise UsageError(f"--with {spec}: expected NAME:key=value,key=value")
            attrs[key.strip()] = _value(raw.strip())
    return name, attrs


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def apply_decospecs(flow_cls: type, specs: list[str]) -> None:
    """Attach each ``--with`` decorator to the steps of ``flow_cls`` that lack it."""
    from core_runtime.decorators import STEP_DECORATORS, DecoratorError, find_decorator, make_decorator

    for spec in specs:
        name, attrs = parse_spec(spec)
        if name == "ray":
            continue   # not a decorator: the executor every step runs on (cli/executor_opts.py)
        build = STEP_DECORATORS.get(name)
        if build is None:
            raise UsageError(f"--with {spec}: unknown decorator @{name} "
                             f"(known: {', '.join(sorted(STEP_DECORATORS))})")
        try:
            built = build(**attrs)
        except (TypeError, DecoratorError) as exc:
            raise UsageError(f"--with {spec}: {exc}") from None
        for attr in dir(flow_cls):
            fn = getattr(flow_cls, attr, None)
            if callable(fn) and getattr(fn, "_fs_is_step", False) and find_decorator(fn, name) is None:
                fn._fs_decorators = list(getattr(fn, "_fs_decorators", [])) + [make_decorator(name, dict(built))]
