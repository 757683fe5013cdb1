"""Which literal values a step can leave in one of its artifacts when it reaches its last statement.

Lint uses this for switches: ``self.route = "medium"`` in a step whose switch has only the cases
"fast" and "slow" can only fail at run time, and a recursive step that always sets the looping
case never exits. It is a small reaching-definitions pass over the step's statements: branches
(if, loops, try, match) merge the values of their paths, a path that returns or raises does not
reach ``self.next``, and anything that is not a plain literal assignment (``self.x = f()``,
``self.x += 1``, ``setattr``) makes the value unknown, so lint only reports what is certain.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Possible:
    literals: list[tuple[Any, int]] = field(default_factory=list)   # (value, line of the assignment)
    unknown: bool = False      # some path assigns a value that cannot be read statically
    inherited: bool = False    # some path does not assign it: the parent task's value is kept

    def union(self, other: Possible | None) -> Possible:
        if other is None:
            return self
        seen = {(repr(v), line) for v, line in self.literals}
        extra = [(v, line) for v, line in other.literals if (repr(v), line) not in seen]
        return Possible(self.literals + extra, self.unknown or other.unknown,
                        self.inherited or other.inherited)


def _merge(*states: Possible | None) -> Possible | None:
    out: Possible | None = None
    for state in states:
        if state is not None:
            out = state if out is None else out.union(state)
    return out


def _is_self_attr(node: ast.AST, name: str) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == name
            and isinstance(node.value, ast.Name) and node.value.id == "self")


def _literals(expr: ast.expr) -> list[Any] | None:
    if isinstance(expr, ast.Constant):
        return [expr.value]
    if isinstance(expr, ast.IfExp):
        a, b = _literals(expr.body), _literals(expr.orelse)
        return None if a is None or b is None else a + b
    return None


def _touches(stmt: ast.AST, name: str) -> bool:
    """Any other way the statement may set self.<name>: augmented, unpacking, walrus, setattr."""
    for node in ast.walk(stmt):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _is_self_attr(node, name):
            return True
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr"
                and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "self"):
            return True
    return False


def _plain_assignment(stmt: ast.stmt, name: str) -> ast.expr | None:
    """The value of ``self.<name> = value`` (also ``a = self.<name> = value``, annotated)."""
    if isinstance(stmt, ast.Assign) and any(_is_self_attr(t, name) for t in stmt.targets):
        return stmt.value
    if isinstance(stmt, ast.AnnAssign) and stmt.value is not None and _is_self_attr(stmt.target, name):
        return stmt.value
    return None


def _flow(stmts: list[ast.stmt], state: Possible | None, name: str) -> Possible | None:
    """The state after the statements; None when no path gets through (return, raise)."""
    for stmt in stmts:
        if state is None:
            return None
        value = _plain_assignment(stmt, name)
        if value is not None:
            lits = _literals(value)
            state = (Possible([(v, stmt.lineno) for v in lits]) if lits is not None
                     else Possible(unknown=True))
        elif isinstance(stmt, (ast.Return, ast.Raise)):
            return None
        elif isinstance(stmt, ast.If):
            state = _merge(_flow(stmt.body, state, name), _flow(stmt.orelse, state, name))
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            once = _merge(state, _flow(stmt.body, state, name))
            state = _flow(stmt.orelse, once, name)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            state = _flow(stmt.body, state, name)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            block: Any = stmt     # ast.Try or ast.TryStar (3.11+): the same fields
            body = _flow(block.body, state, name)
            handlers = [_flow(h.body, _merge(state, body), name) for h in block.handlers]
            state = _merge(_flow(block.orelse, body, name), *handlers)
            if state is not None:
                state = _flow(block.finalbody, state, name)
        elif isinstance(stmt, ast.Match):
            state = _merge(state, *[_flow(case.body, state, name) for case in stmt.cases])
        elif _touches(stmt, name):
            state = state.union(Possible(unknown=True))
    return state


def values_at_end(body: list[ast.stmt], name: str) -> Possible:
    """What self.<name> may hold after the step's body (before its self.next runs)."""
    return _flow(body, Possible(inherited=True), name) or Possible()
