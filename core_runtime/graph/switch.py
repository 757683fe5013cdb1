"""Switch transitions read from the AST: ``self.next({"case": self.step, ...}, condition="artifact")``.

Besides what ``_graph_info`` records (the condition and the cases), this keeps what lint needs to
check a switch before anything runs: each case's Python value and line, and the literal values
the step can leave in the condition artifact when it reaches ``self.next`` (see condition_values).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from core_runtime.graph.condition_values import Possible, values_at_end


@dataclass
class SwitchCase:
    label: str              # as _graph_info records it: the string, str(other literal), "config:cfg.key"
    key: Any                # the Python value of a literal key; None for a config expression
    is_config: bool
    target: str | None      # the step a case names; None when the value is not ``self.<step>``
    line: int


@dataclass
class SwitchInfo:
    line: int
    cases: list[SwitchCase] = field(default_factory=list)
    condition: str | None = None
    # What self.<condition> may hold at the self.next call; None when the condition is not known.
    possible: Possible | None = None

    @property
    def has_config_keys(self) -> bool:
        return any(c.is_config for c in self.cases)

    def case_for(self, value: Any) -> SwitchCase | None:
        for case in self.cases:
            if not case.is_config and _same_key(case.key, value):
                return case
        return None

    def labels(self) -> str:
        return ", ".join(repr(c.key) if not c.is_config else c.label for c in self.cases)


def _same_key(key: Any, value: Any) -> bool:
    """Dict lookup semantics (``1 == True``, ``1 == 1.0``), so the check agrees with the runtime."""
    try:
        return bool(hash(key) == hash(value) and key == value)
    except TypeError:
        return False


def is_switch_call(call: ast.Call) -> bool:
    """Metaflow's test: one dict argument and a ``condition`` keyword."""
    return (len(call.args) == 1 and isinstance(call.args[0], ast.Dict)
            and any(kw.arg == "condition" for kw in call.keywords))


def _case_key(key: ast.expr | None) -> tuple[str, Any, bool] | None:
    """(label, value, is_config) of a case key, or None when it cannot be read statically."""
    if isinstance(key, ast.Constant):
        value = key.value
        return (value if isinstance(value, str) else str(value)), value, False
    # self.config.key: a Config value, known only once the config is loaded.
    if (isinstance(key, ast.Attribute) and isinstance(key.value, ast.Attribute)
            and isinstance(key.value.value, ast.Name) and key.value.value.id == "self"):
        return f"config:{key.value.attr}.{key.attr}", None, True
    return None


def read_switch(func: ast.FunctionDef, call: ast.Call) -> tuple[SwitchInfo, list[tuple[int, str]]]:
    """The switch of a step's self.next call and the problems found reading it."""
    step = func.name
    line = call.lineno
    info = SwitchInfo(line=line)
    issues: list[tuple[int, str]] = []
    cases = call.args[0]
    assert isinstance(cases, ast.Dict)
    for key, value in zip(cases.keys, cases.values):
        where = getattr(value, "lineno", line)
        read = _case_key(key)
        if read is None:
            shown = ast.unparse(key) if key is not None else "**..."
            issues.append((where, (f"step '{step}': switch case keys must be literals (strings, numbers) "
                                  f"or config values (self.config.key), got {shown}")))
            continue
        label, py_value, is_config = read
        target = None
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "self":
            target = value.attr
        else:
            issues.append((where, (f"step '{step}': switch case {label!r} must name a step like "
                                  f"self.train, got {ast.unparse(value)}")))
        info.cases.append(SwitchCase(label, py_value, is_config, target, where))
    if not cases.keys:
        issues.append((line, (f"step '{step}': self.next({{}}, condition=...) has no cases; give at "
                             f"least two: self.next({{'a': self.a, 'b': self.b}}, condition='...')")))
    for kw in call.keywords:
        if kw.arg == "condition":
            if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                info.condition = kw.value.value
            else:
                issues.append((line, (f"step '{step}': condition= must be a string literal naming an "
                                     f"artifact (condition='mode'), got {ast.unparse(kw.value)}")))
        elif kw.arg in ("foreach", "num_parallel"):
            issues.append((line, (f"step '{step}': a switch (condition=) cannot be combined with "
                                 f"{kw.arg}=; put the {kw.arg} in a step of its own")))
        else:
            issues.append((line, (f"step '{step}': unknown self.next argument '{kw.arg}' "
                                 f"(a switch takes only condition=)")))
    if info.condition is not None:
        info.possible = values_at_end(func.body, info.condition)
    return info, issues
