"""``task.exception`` of a failed task, checked by running the same driver under pip ``metaflow``
(import swapped) and core_runtime: Metaflow's client returns the stored exception wrapper, whose
``.type`` is the exception class's module and name (``builtins.ValueError``; ``__main__.QuotaExceeded``
for a class the flow file defines), ``.exception`` the message, and whose ``str()`` is the traceback."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import FLOWS
from tests.runtime.dual_runtime import Runtime

FLOW = FLOWS / "exception_types_flow.py"
SHADOWED_FLOW = FLOWS / "shadowed_exception_flow.py"

SHADOWED_FLOW = FLOWS / "shadowed_exception_flow.py"

DRIVER = r'''
import json
from core_runtime import Runner

out = {}
for kind in KINDS:
    with Runner(FLOW_FILE, show_output=False).run(kind=kind) as running:
        exc = running.run["start"].task.exception
        text = str(exc).splitlines()
        out[kind] = {"status": running.status,
                     "wrapper": "MetaflowExceptionWrapper" in [c.__name__ for c in type(exc).__mro__],
                     "type": exc.type, "exception": exc.exception, "str": [text[0], text[-1]],
                     "stacktrace": exc.stacktrace == str(exc)}
print(json.dumps(out))
'''


def driver(flow_file: str, kinds: tuple[str, ...]) -> str:
    return DRIVER.replace("FLOW_FILE", repr(flow_file)).replace("KINDS", repr(kinds))


def wrapped(type_: str, message: str) -> dict[str, object]:
    """What the driver reports for a failed task that raised ``type_(message)``."""
    return {"status": "failed", "wrapper": True, "type": type_, "exception": message,
            "str": ["Traceback (most recent call last):", f"{type_.rsplit('.', 1)[-1]}: {message}"],
            "stacktrace": True}


@pytest.mark.timeout(600)
def test_task_exception(runtime: Runtime) -> None:
    assert runtime.run(driver("exception_types_flow.py", ("builtin", "custom")), [FLOW]) == {
        "builtin": wrapped("builtins.ValueError", "bad value 7"),
        "custom": wrapped("__main__.QuotaExceeded", "quota of 3 exceeded"),
    }


@pytest.mark.timeout(600)
def test_shadowing_exception_class(runtime: Runtime) -> None:
    """A class the flow file defines under a built-in's name (``class ValueError(Exception)``):
    Metaflow names its real module, ``__main__.ValueError``; we reported ``builtins.ValueError``
    (the attempt kept only the bare name, and the traceback's last line is a bare ``ValueError: …``
    either way). Python's own ValueError raised by the same flow stays ``builtins.ValueError``."""
    assert runtime.run(driver("shadowed_exception_flow.py", ("own", "builtin")), [SHADOWED_FLOW]) == {
        "own": wrapped("__main__.ValueError", "own value 7"),
        "builtin": wrapped("builtins.ValueError", "builtin value 8"),
    }
