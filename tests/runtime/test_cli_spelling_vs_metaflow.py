"""Option spellings on a flow's command line, checked against pip ``metaflow`` (import swapped) on
the same file: click takes an option only as declared, so a Parameter's option is ``--`` + its name
exactly (``--learning_rate`` for ``Parameter("learning_rate")``, ``--max-depth`` for
``Parameter("max-depth")``, never the other separator), an abbreviation of an option is refused
(click only suggests the full name), a ``bool`` Parameter takes a value (``--shuffle true``; no
bare ``--shuffle`` or ``--no-shuffle``), and ``--quiet`` / ``--not-quiet`` come before the command
only. Refused spellings exit 2 with a message naming the option."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import FLOWS
from tests.runtime.dual_runtime import Runtime

FLOW = FLOWS / "cli_spelling_flow.py"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("args, values", [
    (("run", "--learning_rate", "0.5"), "values 0.5 3 False"),
    (("run", "--max-depth", "5"), "values 0.1 5 False"),
    (("run", "--shuffle", "true"), "values 0.1 3 True"),
    (("run", "--shuffle=True", "--max-depth=4"), "values 0.1 4 True"),
])
def test_spellings_metaflow_accepts(flow_runner, metaflow, args, values):
    theirs, _ = metaflow.run(FLOW, *args, ok=False)
    ours = flow_runner(FLOW, "--no-pylint", *args)
    assert theirs.returncode == 0, theirs.stderr[-2000:]
    assert ours.returncode == 0, ours.stderr[-2000:]
    assert values in theirs.stdout + theirs.stderr and values in ours.stdout + ours.stderr


@pytest.mark.timeout(600)
@pytest.mark.parametrize("args, option", [
    (("run", "--learning-rate", "0.5"), "--learning-rate"),     # dash for the name's underscore
    (("run", "--max_depth", "5"), "--max_depth"),               # underscore for the name's dash
    (("run", "--learn", "0.5"), "--learn"),                     # an abbreviated parameter
    (("run", "--shuffle"), "--shuffle"),                        # a bool parameter needs a value
    (("run", "--no-shuffle"), "--no-shuffle"),
    (("run", "--max-work", "2"), "--max-work"),                 # an abbreviated run option
    (("run", "--max_workers", "2"), "--max_workers"),
    (("run", "--run_id_file", "x"), "--run_id_file"),
    (("--no-pyl", "run"), "--no-pyl"),                          # an abbreviated top-level option
    (("--no_pylint", "run"), "--no_pylint"),
    (("--quie", "run"), "--quie"),
    (("--datastore", "loc", "run"), "--datastore"),             # an abbreviated choice
    (("run", "--quiet"), "--quiet"),                            # --quiet is a top-level option only
    (("run", "--no-quiet"), "--no-quiet"),
    (("--no-quiet", "run"), "--no-quiet"),                      # its negation is --not-quiet
])
def test_spellings_metaflow_refuses_exit_2(on_both, args, option):
    ours, theirs = on_both(FLOW, *args)
    assert theirs.returncode == 2 and option in theirs.stderr, theirs.stderr[-2000:]
    assert ours.returncode == 2, ours.stdout[-2000:] + ours.stderr[-2000:]
    lines = [ln for ln in ours.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and option in lines[0], ours.stderr


RUNNER = r'''
import json
from core_runtime import Runner

with Runner("cli_spelling_flow.py", show_output=False).run(learning_rate=0.5, max_depth=5, shuffle=True) as running:
    print(json.dumps({"status": running.status, "values": [running.run.data.learning_rate,
                                                           running.run.data.max_depth, running.run.data.shuffle]}))
'''


@pytest.mark.timeout(600)
def test_runner_spells_parameters_as_declared(runtime: Runtime) -> None:
    """Runner keywords reach the options as declared (``max_depth=`` is ``--max-depth``,
    ``learning_rate=`` ``--learning_rate``, a bool ``--shuffle True``) in both."""
    assert runtime.run(RUNNER, [FLOW]) == {"status": "successful", "values": [0.5, 5, True]}
