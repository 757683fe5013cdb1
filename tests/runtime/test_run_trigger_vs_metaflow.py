"""``Run.trigger`` of runs made on this machine, checked by running the same driver under pip
``metaflow`` (import swapped) and core_runtime: Metaflow's client reads it from the start task's
``execution-triggers`` metadata, which only its Argo Workflows deployments record, so it is None for
a local run, even one started with ``--trigger`` of ``@trigger_on_finish`` (that option sets only
``current.trigger`` in the run's tasks). tests/client/test_client_objects.py reads the metadata."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import FLOWS
from tests.runtime.dual_runtime import Runtime

DRIVER = r'''
import json
import subprocess
import sys

from core_runtime import Flow, namespace


def cli(path, *args):
    proc = subprocess.run([sys.executable, path, "--no-pylint", *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


namespace(None)
cli("trigger_up_flow.py", "run")
up = Flow("UpstreamFlow").latest_run
cli("trigger_down_flow.py", "--trigger", up.pathspec, "run")
down = Flow("TriggeredFlow").latest_run
print(json.dumps({"up": repr(up.trigger), "down": repr(down.trigger), "current_trigger": down.data.triggered,
                  "has_attribute": hasattr(type(down), "trigger")}))
'''

EXPECTED = {"up": "None", "down": "None", "current_trigger": True, "has_attribute": True}
FILES = [FLOWS / "trigger_up_flow.py", FLOWS / "trigger_down_flow.py"]


@pytest.mark.timeout(600)
def test_local_runs_have_no_trigger(runtime: Runtime) -> None:
    assert runtime.run(DRIVER, FILES) == EXPECTED
