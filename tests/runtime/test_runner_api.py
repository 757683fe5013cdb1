"""The Runner API, driven as a user drives it from a script or a notebook, on core_runtime and on
pip metaflow 2.19 with the same script: the same statuses, artifacts and output come back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.conftest import run_row
from tests.runtime.dual_runtime import copy_files, metaflow_env, run_driver

FLOW = Path(__file__).resolve().parent / "runner_flows" / "order_totals.py"
TEA = [{"item": "tea", "qty": 2, "price": 3.5}]

DRIVER = '''
import asyncio
import json

from core_runtime import Runner

out = {}
orders = [{"item": "tea", "qty": 2, "price": 3.5}, {"item": "cake", "qty": 1, "price": 4.25}]
tea = orders[:1]
with Runner("order_totals.py", show_output=False) as runner:
    ok = runner.run(orders=orders, discount=0.1, tags=["nightly"])
    run = ok.run
    out["ok"] = [ok.status, ok.returncode, run.successful, run.finished, run.data.amount,
                 run.data.summary, "nightly" in run.tags, "total 10.12" in ok.stdout]
    bad = runner.run(strict=True, orders=tea)
    out["bad"] = [bad.status, bad.returncode != 0, bad.run.successful, bad.run.finished,
                  "strict mode: prices are not verified" in bad.stdout + bad.stderr]
    origin = bad.run.id
fixed = Runner("order_totals.py", show_output=False, env={"ORDER_TOTALS_FIXED": "1"})
with fixed.resume(origin_run_id=origin) as resumed:
    out["resumed"] = [resumed.status, resumed.run.successful, resumed.run.data.amount,
                      resumed.run.id != origin]


async def in_the_background():
    async with Runner("order_totals.py", show_output=False) as runner:
        slow = await runner.async_run(pause=60, orders=tea)
        started = slow.status
        await slow.wait(timeout=4)
        out["timeout"] = [started, slow.status]
        quick = await runner.async_run(orders=tea)
        lines = [line async for _pos, line in quick.stream_log("stdout")]
        await quick.wait()
        out["streamed"] = [quick.status, any("total 7.0" in ln for ln in lines), quick.run.data.amount]

asyncio.run(in_the_background())
print(json.dumps(out))
'''

EXPECTED = {
    "ok": ["successful", 0, True, True, 10.12, "2 lines, 10.12", True, True],
    "bad": ["failed", True, False, False, True],
    "resumed": ["successful", True, 7.0, True],
    "timeout": ["running", "timeout"],
    "streamed": ["successful", True, 7.0],
}


@pytest.mark.timeout(600)
def test_runner_script_on_core_runtime(flowscope_env: dict[str, str], tmp_path: Path) -> None:
    copy_files([FLOW], tmp_path, metaflow=False)
    assert run_driver(DRIVER, tmp_path, flowscope_env, metaflow=False) == EXPECTED


@pytest.mark.compat
@pytest.mark.timeout(900)
def test_same_runner_script_on_metaflow(tmp_path: Path) -> None:
    copy_files([FLOW], tmp_path, metaflow=True)
    assert run_driver(DRIVER, tmp_path, metaflow_env(tmp_path), metaflow=True) == EXPECTED


def test_the_run_object_reads_where_the_subprocess_recorded(flowscope_env: dict[str, str], db: Any) -> None:
    """``env`` may point the flow at another database than this process's: ``.run`` follows it."""
    from core_runtime import Runner

    with Runner(str(FLOW), show_output=False, env=flowscope_env).run(tags=["via-runner"], orders=TEA) as running:
        assert running.status == "successful"
        row = run_row(db, "OrderTotalsFlow", running.run.id)
        assert row["status"] == "completed" and "via-runner" in row["tags"]
        assert running.run.data.amount == 7.0


def test_a_stopped_run_is_recorded_as_failed(flowscope_env: dict[str, str], db: Any) -> None:
    from core_runtime import Runner

    async def stop_it() -> str:
        runner = Runner(str(FLOW), show_output=False, env=flowscope_env)
        running = await runner.async_run(pause=60, orders=TEA)
        await running.wait(timeout=3)
        assert running.status == "timeout"
        runner.cleanup()
        return str(running.run.id)

    run_id = asyncio.run(stop_it())
    row = run_row(db, "OrderTotalsFlow", run_id)
    assert row["status"] == "failed" and "SIGTERM" in row["status_reason"]


def test_arguments_are_checked_before_anything_starts(flowscope_env: dict[str, str], db: Any) -> None:
    from core_runtime import Runner

    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs")
        before = cur.fetchone()[0]
    runner = Runner(str(FLOW), show_output=False, env=flowscope_env)
    with pytest.raises(ValueError, match="Unknown argument: 'discunt'.*discount"):
        runner.run(discunt=0.5)
    with pytest.raises(ValueError, match="Unknown argument: 'colour'"):
        Runner(str(FLOW), colour="red")
    with pytest.raises(FileNotFoundError, match="no flow file"):
        Runner(str(FLOW.with_name("missing.py")))
    with pytest.raises(RuntimeError, match="invalid value 'lots' for --discount|discount"):
        runner.run(discount="lots")
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs")
        assert cur.fetchone()[0] == before
