"""/api/compare on real CompareFlow runs that differ in one thing each; only that thing shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.backend.api_helpers import get_json
from tests.backend.conftest import OWN_FLOWS, run_flow

V1, V2 = OWN_FLOWS / "compare_v1.py", OWN_FLOWS / "compare_v2.py"


@pytest.fixture(scope="module")
def cruns(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Pathspecs of CompareFlow runs: a baseline and one run per kind of difference."""
    tmp = tmp_path_factory.mktemp("compare")

    def run(path: Path, *args: str, check: bool = True, tags: tuple[str, ...] = ("base",),
            **env: str) -> str:
        return "CompareFlow/" + run_flow({**flowscope_env, **env}, path, tmp, *args, tags=tags, check=check)

    return {
        "base": run(V1),
        "same": run(V1),
        "param": run(V1, "--alpha", "0.2", tags=("base", "tuned")),
        "code": run(V2),
        "value": run(V1, COMPARE_BIAS="5"),
        "fail": run(V1, check=False, COMPARE_FAIL="train"),
    }


def changed(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(i.get("step_name", "") + ("." if "step_name" in i else "") + i["name"], i["status"])
            for i in items if i["status"] != "unchanged"]


def step_changes(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["step_name"], s["status"]) for s in body["steps"] if s["status"] != "unchanged"]


async def compare(api: Any, cruns: dict[str, str], a: str, b: str, **params: Any) -> dict[str, Any]:
    body = await get_json(api, "/api/compare", a=cruns[a], b=cruns[b], **params)
    data: dict[str, Any] = body["data"]
    assert data["a"]["pathspec"] == cruns[a] and data["b"]["pathspec"] == cruns[b]
    assert data["same_flow"] is True and data["note"] is None
    return data


async def test_identical_runs_show_no_change(api: Any, cruns: dict[str, str]) -> None:
    d = await compare(api, cruns, "base", "same")
    assert changed(d["parameters"]) == [] and [p["name"] for p in d["parameters"]] == ["alpha"]
    assert d["tags"] == {"added": [], "removed": [], "unchanged": ["base"]}
    assert step_changes(d) == [] and [s["step_name"] for s in d["steps"]] == ["start", "train", "end"]
    assert changed(d["artifacts"]) == [] and d["artifact_steps"] == ["end"]
    names = {a["name"] for a in d["artifacts"]}
    assert {"summary", "model", "data"} <= names
    summary = next(a for a in d["artifacts"] if a["name"] == "summary")
    assert "ok" in summary["a"]["preview"] and summary["b"]["preview"] is None  # shown once
    assert summary["a"]["sha"] == summary["b"]["sha"]
    assert d["failures"] == {"a": None, "b": None}
    for s in d["steps"]:
        for side in ("a", "b"):
            assert s[side]["task_counts"] == {"total": 1, "pending": 0, "running": 0, "completed": 1, "failed": 0}
            assert s[side]["p50_ms"] is not None and s[side]["p95_ms"] >= s[side]["p50_ms"]
            assert s[side]["task_total_ms"] is not None and s[side]["wall_ms"] is not None
        assert set(s["ratio"]) == {"wall_ms", "task_total_ms", "p50_ms", "p95_ms"}


async def test_parameter_and_tag_change(api: Any, cruns: dict[str, str]) -> None:
    d = await compare(api, cruns, "base", "param")
    assert [(p["name"], p["status"], p["a"], p["b"]) for p in d["parameters"]] == [("alpha", "changed", 0.1, 0.2)]
    assert d["tags"]["added"] == ["tuned"] and d["tags"]["removed"] == []
    assert step_changes(d) == []
    # Parameters are artifacts too (as in Metaflow), so alpha is the one artifact that changed.
    assert changed(d["artifacts"]) == [("end.alpha", "changed")]
    alpha = next(a for a in d["artifacts"] if a["name"] == "alpha")
    assert "0.1" in alpha["a"]["preview"] and "0.2" in alpha["b"]["preview"]
    assert d["failures"] == {"a": None, "b": None}


async def test_code_change_adds_a_step(api: Any, cruns: dict[str, str]) -> None:
    d = await compare(api, cruns, "base", "code")
    assert [s["step_name"] for s in d["steps"]] == ["start", "train", "score", "end"]
    assert step_changes(d) == [("score", "added")]
    score = next(s for s in d["steps"] if s["step_name"] == "score")
    assert score["a"] is None and score["ratio"] is None and score["b"]["task_counts"]["completed"] == 1
    assert changed(d["parameters"]) == [] and changed(d["artifacts"]) == []
    # The reverse direction calls it removed and keeps it in place.
    back = await compare(api, cruns, "code", "base")
    assert [s["step_name"] for s in back["steps"]] == ["start", "train", "score", "end"]
    assert step_changes(back) == [("score", "removed")]


async def test_artifact_value_change(api: Any, cruns: dict[str, str]) -> None:
    d = await compare(api, cruns, "base", "value")
    assert changed(d["parameters"]) == [] and step_changes(d) == []
    assert changed(d["artifacts"]) == [("end.model", "changed")]
    model = next(a for a in d["artifacts"] if a["name"] == "model")
    assert model["a"]["sha"] != model["b"]["sha"]
    assert "1" in model["a"]["preview"] and "6" in model["b"]["preview"]
    # Chosen steps are compared too: train set model, start did not.
    chosen = await compare(api, cruns, "base", "value", steps="start,train")
    assert chosen["artifact_steps"] == ["end", "start", "train"]
    assert changed(chosen["artifacts"]) == [("end.model", "changed"), ("train.model", "changed")]
    assert {a["name"] for a in chosen["artifacts"] if a["step_name"] == "start"} >= {"data", "alpha"}


async def test_failing_step(api: Any, cruns: dict[str, str]) -> None:
    d = await compare(api, cruns, "base", "fail")
    assert d["b"]["status"] == "failed" and changed(d["parameters"]) == []
    assert d["failures"]["a"] is None
    fail = d["failures"]["b"]
    assert fail["step_name"] == "train" and fail["exception_type"] == "RuntimeError"
    assert fail["exception_message"] == "diverged at epoch 3"
    assert fail["pathspec"] == f"{cruns['fail']}/train/{fail['task_id']}"
    train = next(s for s in d["steps"] if s["step_name"] == "train")
    assert train["b"]["task_counts"]["failed"] == 1 and train["a"]["task_counts"]["failed"] == 0
    end = next(s for s in d["steps"] if s["step_name"] == "end")
    assert end["b"]["task_counts"]["total"] == 0 and end["b"]["p50_ms"] is None
    assert step_changes(d) == []  # same DAG; the missing end shows as zero tasks, not a removed step
    # end never ran in b, so its artifacts are absent there: reported removed, nothing else.
    assert {s for _, s in changed(d["artifacts"])} == {"removed"}


async def test_bad_requests(api: Any, cruns: dict[str, str]) -> None:
    async def error(expect: int, **params: Any) -> str:
        body = await get_json(api, "/api/compare", expect, **params)
        return str(body["error"]["message"])

    assert "'a' is required" in await error(400, b=cruns["base"])
    assert "'b' is required" in await error(400, a=cruns["base"])
    assert "Flow/RunId" in await error(400, a="CompareFlow", b=cruns["base"])
    assert "Flow/RunId" in await error(400, a="CompareFlow/1/start", b=cruns["base"])
    assert "same run" in await error(400, a=cruns["base"], b=cruns["base"])
    assert "neither run" in await error(400, a=cruns["base"], b=cruns["same"], steps="nope")
    assert await error(404, a=cruns["base"], b="CompareFlow/999999") == "run b (CompareFlow/999999) not found"
    assert await error(404, a="NoFlow/1", b=cruns["base"]) == "run a (NoFlow/1) not found"


async def test_different_flows_are_allowed_and_flagged(api: Any, cruns: dict[str, str],
                                                       recorded: dict[str, str]) -> None:
    body = await get_json(api, "/api/compare", a=cruns["base"], b=f"LinearFlow/{recorded['LinearFlow']}")
    d = body["data"]
    assert d["same_flow"] is False and "two different flows" in d["note"]
    assert ("middle", "added") in step_changes(d) and ("train", "removed") in step_changes(d)


