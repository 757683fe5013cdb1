"""``task.exception`` of a failed task, checked by running the same driver under pip ``metaflow``
(import swapped) and core_runtime: Metaflow's client returns the stored exception wrapper, whose
``.type`` is the exception class's module and name (``builtins.ValueError``; ``__main__.QuotaExceeded``
for a class the flow file defines), ``.exception`` the message, and whose ``str()`` is the traceback."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import FLOWS
from tests.runtime.dual_runtime import Runtime

FLOW = FLOWS / "exception_types_flow.py"

DRIVER = r'''
import json
from core_runtime import Runner

out = {}
for kind in ("builtin", "custom"):
    with Runner("exception_types_flow.py", show_output=False).run(kind=kind) as running:
        exc = running.run["start"].task.exception
        text = str(exc).splitlines()
        out[kind] = {"wrapper": "MetaflowExceptionWrapper" in [c.__name__ for c in type(exc).__mro__], "type": exc.type, "exception": exc.exception,
                     "str": [text[0], text[-1]], "stacktrace": exc.stacktrace == str(exc)}
print(json.dumps(out))
'''

EXPECTED = {
    "builtin": {"wrapper": True, "type": "builtins.ValueError", "exception": "bad value 7",
                "str": ["Traceback (most recent call last):", "ValueError: bad value 7"], "stacktrace": True},
    "custom": {"wrapper": True, "type": "__main__.QuotaExceeded",
               "exception": "quota of 3 exceeded",
               "str": ["Traceback (most recent call last):", "QuotaExceeded: quota of 3 exceeded"],
               "stacktrace": True},
}


@pytest.mark.timeout(600)
def test_task_exception(runtime: Runtime) -> None:
    assert runtime.run(DRIVER, [FLOW]) == EXPECTED
