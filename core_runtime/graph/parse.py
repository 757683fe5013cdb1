"""Reading a flow file's AST into a FlowGraph. User code is never imported or run."""

from __future__ import annotations

import ast
from typing import Any

from core_runtime.graph.decorators import decorator_name, describe_decorator, literal_or_source
from core_runtime.graph.errors import GraphError
from core_runtime.graph.model import FlowGraph, StepNode
from core_runtime.graph.structure import analyze
from core_runtime.graph.switch import is_switch_call, read_switch

PARAMETER_KINDS = ("Parameter", "Config", "IncludeFile")


def parse_flow_file(path: str, flow_name: str | None = None) -> FlowGraph:
    try:
        with open(path, encoding="utf-8") as fh:
            source = fh.read()
    except OSError as exc:
        raise GraphError(path, 1, f"cannot read the flow file: {exc.strerror or exc}") from None
    return parse_flow_source(source, path, flow_name)


def parse_flow_source(source: str, path: str, flow_name: str | None = None) -> FlowGraph:
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise GraphError(path, exc.lineno or 1, f"syntax error: {exc.msg}") from None
    classes = _flow_classes(tree)
    cls = _pick_flow_class(tree, classes, path, flow_name)
    graph = _build_graph(cls, classes, path)
    analyze(graph)
    return graph


def _base_names(cls: ast.ClassDef) -> list[str]:
    names = []
    for base in cls.bases:
        if isinstance(base, ast.Name):
            names.append(base.id)
        elif isinstance(base, ast.Attribute):
            names.append(base.attr)
    return names


def _flow_classes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    """Module-level classes deriving (directly, or through another class in the file) from *FlowSpec."""
    found: dict[str, ast.ClassDef] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        bases = _base_names(node)
        if any(b.endswith("FlowSpec") or b in found for b in bases):
            found[node.name] = node
    return found


def _main_instantiations(tree: ast.Module) -> set[str]:
    """Class names called in ``if __name__ == "__main__":`` blocks."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
                    names.add(sub.func.id)
    return names


def _pick_flow_class(tree: ast.Module, classes: dict[str, ast.ClassDef], path: str,
                     flow_name: str | None) -> ast.ClassDef:
    if not classes:
        raise GraphError(path, 1, "no flow found: define a class deriving from FlowSpec "
                                  "(class MyFlow(FlowSpec): ...)")
    if flow_name is not None:
        if flow_name not in classes:
            raise GraphError(path, 1, f"no flow class named '{flow_name}' "
                                      f"(found: {', '.join(classes)})")
        return classes[flow_name]
    run = [name for name in _main_instantiations(tree) if name in classes]
    if len(run) == 1:
        return classes[run[0]]
    # Otherwise the most derived class: one that no other flow class in the file extends.
    extended = {b for c in classes.values() for b in _base_names(c)}
    leaves = [c for name, c in classes.items() if name not in extended]
    return leaves[-1] if leaves else list(classes.values())[-1]


def _class_chain(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> list[ast.ClassDef]:
    """Base flow classes defined in the file first, then cls (so subclasses override steps)."""
    chain: list[ast.ClassDef] = []
    for base in _base_names(cls):
        if base in classes and classes[base] is not cls:
            chain.extend(c for c in _class_chain(classes[base], classes) if c not in chain)
    chain.append(cls)
    return chain


def _build_graph(cls: ast.ClassDef, classes: dict[str, ast.ClassDef], path: str) -> FlowGraph:
    steps: dict[str, StepNode] = {}
    duplicates: list[tuple[str, int]] = []
    parameters: dict[str, dict[str, Any]] = {}
    constants: dict[str, dict[str, Any]] = {}
    for klass in _class_chain(cls, classes):
        seen_here: set[str] = set()
        for item in klass.body:
            if isinstance(item, ast.FunctionDef) and _is_step(item):
                if item.name in seen_here:
                    duplicates.append((item.name, item.lineno))
                seen_here.add(item.name)
                steps.pop(item.name, None)      # keep source order of the overriding definition
                steps[item.name] = _step_node(item, path)
            elif isinstance(item, ast.Assign) and len(item.targets) == 1 \
                    and isinstance(item.targets[0], ast.Name):
                _class_attribute(item.targets[0].id, item.value, item.lineno, parameters, constants)
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and item.value:
                _class_attribute(item.target.id, item.value, item.lineno, parameters, constants)
    flow_decos = [d for d in (describe_decorator(x) for x in cls.decorator_list) if d is not None]
    return FlowGraph(
        flow_name=cls.name, file=path, doc=ast.get_docstring(cls) or "", steps=steps,
        start_step="start", end_step="end", parameters=list(parameters.values()),
        constants=sorted(constants.values(), key=lambda c: c["name"]),
        class_line=cls.lineno, decorators=flow_decos, duplicate_steps=duplicates,
    )


def _is_step(func: ast.FunctionDef) -> bool:
    return any(decorator_name(d) == "step" for d in func.decorator_list)


def _class_attribute(name: str, value: ast.expr, line: int, parameters: dict[str, dict[str, Any]],
                     constants: dict[str, dict[str, Any]]) -> None:
    if isinstance(value, ast.Call) and decorator_name(value) in PARAMETER_KINDS:
        kind = decorator_name(value)
        attributes = {kw.arg: literal_or_source(kw.value) for kw in value.keywords if kw.arg}
        given = literal_or_source(value.args[0]) if value.args else attributes.get("name", name)
        parameters[name] = {"name": name, "type": kind, "line": line,
                            "param_name": given if isinstance(given, str) else name,
                            "attributes": attributes}
        return
    if name.startswith("_"):
        return
    try:
        literal = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return
    constants[name] = {"name": name, "type": type(literal).__name__}


def _step_node(func: ast.FunctionDef, path: str) -> StepNode:
    decorators = []
    for deco in reversed(func.decorator_list):    # innermost first, like Metaflow's attachment order
        if decorator_name(deco) == "step":
            continue
        described = describe_decorator(deco)
        if described is not None:
            decorators.append(described)
    n_args = len(func.args.posonlyargs) + len(func.args.args)
    node = StepNode(name=func.name, type="linear", next=[], in_funcs=[], line=func.lineno,
                    doc=ast.get_docstring(func) or "", decorators=decorators, num_args=n_args,
                    source_file=path)
    _read_next_call(func, node)
    return node


def _is_self_next(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "next" and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "self")


def _issue(node: StepNode, line: int, message: str) -> None:
    node.next_issues.append((line, message))


def _read_next_call(func: ast.FunctionDef, node: StepNode) -> None:
    tail = func.body[-1]
    call = tail.value if isinstance(tail, ast.Expr) and _is_self_next(tail.value) else None
    if call is None:
        elsewhere = [c for c in ast.walk(func) if _is_self_next(c)]
        if elsewhere:
            node.has_next = True
            _issue(node, getattr(elsewhere[-1], "lineno", func.lineno),
                   f"step '{func.name}': self.next(...) must be the last "
                   f"statement of the step (one transition per step)")
        return
    assert isinstance(call, ast.Call)
    node.has_next = True
    line = call.lineno
    node.next_line = line
    if is_switch_call(call):
        _read_switch(func, call, node)
        return
    for arg in call.args:
        if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == "self":
            node.next.append(arg.attr)
        elif isinstance(arg, ast.Dict):
            _issue(node, line, f"step '{func.name}': a dict of cases needs condition='artifact': "
                   f"self.next({{'a': self.a, 'b': self.b}}, condition='mode')")
        else:
            _issue(node, line, f"step '{func.name}': self.next arguments must be steps "
                   f"like self.train, got {ast.unparse(arg)}")
    if not call.args:
        _issue(node, line, f"step '{func.name}': self.next() needs a target step")
    for kw in call.keywords:
        if kw.arg == "foreach":
            if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                node.foreach_artifact = kw.value.value
            else:
                _issue(node, line, f"step '{func.name}': foreach= must be a string literal "
                       f"naming an artifact (foreach='items'), "
                       f"got {ast.unparse(kw.value)}")
        elif kw.arg == "num_parallel":
            value = literal_or_source(kw.value)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                node.num_parallel = value
            else:
                # A computed size (a Parameter, a config value) is known when the step runs.
                node.num_parallel = -1
        elif kw.arg == "condition":
            _issue(node, line, f"step '{func.name}': condition= takes a dict of cases as the only "
                   f"argument: self.next({{'a': self.a, 'b': self.b}}, condition="
                   f"{ast.unparse(kw.value)})")
        else:
            _issue(node, line, f"step '{func.name}': unknown self.next argument "
                   f"'{kw.arg}' (only foreach=, num_parallel= and condition= are supported)")
    if (node.foreach_artifact is not None or node.num_parallel) and len(node.next) != 1:
        _issue(node, line, f"step '{func.name}': a foreach transition takes exactly one "
               f"target step, got {len(node.next)}")


def _read_switch(func: ast.FunctionDef, call: ast.Call, node: StepNode) -> None:
    info, issues = read_switch(func, call)
    node.switch = info
    for line, message in issues:
        _issue(node, line, message)
    if issues or info.condition is None:
        # Recorded as Metaflow does for a transition it cannot read: no type, no edges; lint
        # reports the issue.
        node.next = [c.target for c in info.cases if c.target is not None]
        return
    node.condition = info.condition
    node.switch_cases = {c.label: c.target for c in info.cases if c.target is not None}
    node.next = [c.target for c in info.cases if c.target is not None]
