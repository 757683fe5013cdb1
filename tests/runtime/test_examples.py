"""Every example in examples/ runs (the failing one fails with its readable reason)."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import REPO, run_row

EXAMPLES = REPO / "examples"


@pytest.mark.parametrize("name, flow, args, status", [
    ("linear_train.py", "LinearTrainFlow", (), "completed"),
    ("branch_models.py", "BranchModelsFlow", (), "completed"),
    ("foreach_tuning.py", "ForeachTuningFlow", (), "completed"),
    ("nested_foreach_grid.py", "NestedGridFlow", (), "completed"),
    ("retry_catch.py", "FlakySourceFlow", (), "completed"),
    ("failing_step.py", "FailingStepFlow", (), "failed"),
    ("card_report.py", "CardReportFlow", (), "completed"),
    ("long_training.py", "LongTrainingFlow", ("--epochs", "2"), "completed"),
])
def test_example(flow_runner, db, name, flow, args, status):
    res = flow_runner(EXAMPLES / name, "run", *args)
    run = run_row(db, flow, res.run_id)
    assert run["status"] == status, run["status_reason"]
    if status == "failed":
        assert run["status_reason"].startswith("step train failed: ValueError: bad alpha 1.5")
