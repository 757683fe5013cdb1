"""``task.exception.type`` of an exception class the flow file defines under a built-in's name
(``class ValueError(Exception)``), checked by running the same driver under pip ``metaflow`` (import
swapped) and core_runtime: Metaflow names the class's real module, ``__main__.ValueError``. We
reported ``builtins.ValueError``: the attempt kept only the bare name, and the traceback's last line
is a bare ``ValueError: …`` for ``__main__`` as for ``builtins``. Python's own ValueError raised by
the same flow stays ``builtins.ValueError``. (Beside tests/runtime/test_exception_vs_metaflow.py.)
"""

from __future__ import annotations

import pytest

from tests.runtime.conftest import FLOWS
from tests.runtime.dual_runtime import Runtime

FLOW = FLOWS / "shadowed_exception_flow.py"

DRIVER = r'''
import json
from core_runtime import Runner

out = {}
for kind in ("own", "builtin"):
    with Runner("shadowed_exception_flow.py", show_output=False).run(kind=kind) as running:
        exc = running.run["start"].task.exception
        out[kind] = [running.status, exc.type, exc.exception, str(exc).splitlines()[-1]]
print(json.dumps(out))
'''

EXPECTED = {
    "own": ["failed", "__main__.ValueError", "own value 7", "ValueError: own value 7"],
    "builtin": ["failed", "builtins.ValueError", "builtin value 8", "ValueError: builtin value 8"],
}


@pytest.mark.timeout(600)
def test_shadowing_exception_class(runtime: Runtime) -> None:
    assert runtime.run(DRIVER, [FLOW]) == EXPECTED
