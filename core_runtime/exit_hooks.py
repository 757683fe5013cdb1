"""``@exit_hook(on_success=[...], on_error=[...])``: functions run once the run has ended.

As in Metaflow 2.19's local runtime: after the last task (or the failure), each hook of the
outcome runs in its own ``python -m core_runtime.exit_hooks FLOW_FILE NAME PATHSPEC`` process, in
the order given; a hook is a function of the flow file (or a dotted ``module.function``), called
with ``run=`` (the client ``Run``) when it takes ``run`` or ``**kwargs``. Its output is printed; a
hook that fails is reported and never changes the run's outcome.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from core_runtime.decorators import DecoratorError
from core_runtime.flow_decorators import FlowDecoratorSpec, attach, flow_decorators


def _names(kind: str, hooks: Any) -> list[str]:
    if not isinstance(hooks, (list, tuple)):
        raise DecoratorError(f"@exit_hook({kind}=...): expected a list of functions or their names")
    out = []
    for h in hooks:
        if isinstance(h, str):
            out.append(h)
        elif callable(h):
            out.append(h.__name__)
        else:
            raise DecoratorError(f"@exit_hook({kind}=...): {h!r} is neither a function nor its name")
    return out


def exit_hook(cls: type | None = None, *, on_success: Any = (), on_error: Any = (),
              options: dict[str, Any] | None = None) -> Any:
    success, error = _names("on_success", on_success), _names("on_error", on_error)
    if not success and not error:
        raise DecoratorError("@exit_hook needs on_success=[...] or on_error=[...]")
    spec = FlowDecoratorSpec("exit_hook", {"on_success": success, "on_error": error,
                                           "options": dict(options or {})})

    def apply(klass: type) -> type:
        return attach(klass, spec, allow_multiple=True)

    return apply(cls) if cls is not None else apply


def run_exit_hooks(flow_cls: type, flow_file: str, pathspec: str, successful: bool,
                   say: Callable[[str], None] = print) -> None:
    kind = "on_success" if successful else "on_error"
    names = [n for d in flow_decorators(flow_cls) if d.name == "exit_hook" for n in d.attributes[kind]]
    for name in names:
        proc = subprocess.run([sys.executable, "-m", "core_runtime.exit_hooks", flow_file, name, pathspec],
                              capture_output=True, text=True, check=False, env=os.environ.copy())
        for line in (proc.stdout + proc.stderr).rstrip("\n").splitlines():
            say(line)
        if proc.returncode:
            say(f"[exit_hook] Hook '{name}' failed (exit code {proc.returncode})")


def _load(flow_file: str, name: str) -> Callable[..., Any]:
    if "." in name:
        module_path, _, fn_name = name.rpartition(".")
        try:
            return getattr(importlib.import_module(module_path), fn_name)  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            pass
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(flow_file))[0], flow_file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {flow_file}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)  # type: ignore[no-any-return]


def main(argv: list[str]) -> int:
    flow_file, name, pathspec = argv
    try:
        hook = _load(flow_file, name)
    except (ImportError, AttributeError, OSError) as exc:
        print(f"[exit_hook] Could not load function '{name}' as an import path or from '{flow_file}': {exc}")
        return 1
    params = inspect.signature(hook).parameters
    if "run" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        from core_runtime.client import Run

        hook(run=Run(pathspec, _namespace_check=False))
    else:
        hook()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
