"""The wire protocol without the metaflow client: shapes, ids, error codes (reference §3-§7)."""

from __future__ import annotations

import json
from typing import Any

from mf_harness import Ingest
from mf_sql import q

BASE = "/flows/ProtoFlow/runs"


def _make_run(ingest: Ingest, run_id: str | None = None) -> str:
    ingest.post("/flows/ProtoFlow", {"flow_id": "ProtoFlow", "ts_epoch": 1})
    body: dict[str, Any] = {"flow_id": "ProtoFlow", "user_name": "tester", "tags": ["t1"],
                            "system_tags": ["runtime:dev", "user:tester"], "ts_epoch": 1}
    if run_id:
        body["run_number"] = run_id
    status, run = ingest.post("/flows/ProtoFlow/run", body)
    assert status == 200, run
    return str(run["run_number"])


def test_ping_version_header_and_token(ingest: Ingest) -> None:
    status, body, headers = ingest.request("GET", "/ping")
    assert status == 200 and headers["METADATA_SERVICE_VERSION"] == "2.5.1"
    status, body, _ = ingest.request("GET", "/ping", headers={"x-api-key": "wrong"})
    assert status == 401 and "token" in body["message"]
    status, _, _ = ingest.request("GET", "/flows", headers={"x-api-key": "",
                                                            "Authorization": "Bearer test-ingest-token"})
    assert status == 200


def test_not_found_is_empty_object(ingest: Ingest) -> None:
    assert ingest.get("/flows/NoSuchFlow") == (404, {})
    assert ingest.get("/flows/NoSuchFlow/runs/1") == (404, {})
    assert ingest.get("/flows/NoSuchFlow/runs/1/steps/start/tasks/1/artifacts/x") == (404, {})
    assert ingest.post("/flows/NoSuchFlow/runs/9/steps/s/tasks/1/metadata", []) == (404, {})


def test_malformed_requests(ingest: Ingest) -> None:
    run = _make_run(ingest)
    status, body, _ = ingest.request("POST", f"{BASE}/{run}/steps/a/step", b"{not json",
                                     {"Content-Type": "application/json"})
    assert status == 400 and "JSON" in body["message"]
    status, body = ingest.post(f"{BASE}/{run}/steps/a/task", {"task_id": "17"})
    assert status == 400 and "numeric" in body["message"]
    status, body = ingest.post("/flows/ProtoFlow/run", {"run_number": "123"})
    assert status == 400
    status, body = ingest.post(f"{BASE}/{run}/steps/a/task", ["a list"])
    assert status == 400
    status, body = ingest.post(f"{BASE}/{run}/steps/a/step", {})
    assert status == 200
    status, task = ingest.post(f"{BASE}/{run}/steps/a/task", {})
    assert status == 200
    tpath = f"{BASE}/{run}/steps/a/tasks/{task['task_id']}"
    assert ingest.post(tpath + "/metadata", {"not": "a list"})[0] == 400
    assert ingest.post(tpath + "/metadata", [{"value": "x"}])[0] == 400
    assert ingest.post(tpath + "/artifact", [{"name": "x"}])[0] == 400
    assert ingest.post(tpath + "/artifact", [{"name": "x", "sha": "ab", "attempt_id": "x"}])[0] == 400
    status, body = ingest.get(f"{BASE}/{run}/steps/a/filtered_tasks?metadata_field_name=f&pattern=(")
    assert status == 400
    # text Postgres cannot hold is stored with a replacement character, not refused
    assert ingest.post(tpath + "/metadata", [{"field_name": "f", "value": "a\u0000b"}])[0] == 200
    assert ingest.get(tpath + "/metadata")[1][0]["value"] == "a\ufffdb"


def test_create_get_shapes_and_duplicates(ingest: Ingest) -> None:
    run = _make_run(ingest)
    assert ingest.post("/flows/ProtoFlow", {"flow_id": "ProtoFlow"})[0] == 409
    _, flow = ingest.get("/flows/ProtoFlow")
    assert flow["user_name"] is None and flow["tags"] is None and isinstance(flow["ts_epoch"], int)
    _, r = ingest.get(f"{BASE}/{run}")
    assert isinstance(r["run_number"], int) and r["tags"] == ["t1"] and r["last_heartbeat_ts"] > 1e9
    assert ingest.post(f"{BASE}/{run}/steps/s/step", {})[0] == 200
    assert ingest.post(f"{BASE}/{run}/steps/s/step", {})[0] == 409
    _, step = ingest.get(f"{BASE}/{run}/steps/s")
    assert step["run_number"] == run and step["step_name"] == "s"
    _status, task = ingest.post(f"{BASE}/{run}/steps/s/task", {"task_id": None})
    assert isinstance(task["task_id"], int) and task["run_number"] == int(run)
    assert ingest.get(f"{BASE}/{run}/steps/s/tasks") == (200, [task])


def test_string_ids_heartbeats_and_tags(ingest: Ingest, db: Any) -> None:
    run = _make_run(ingest, "argo-proto-abc")
    assert run == "argo-proto-abc"
    assert ingest.post("/flows/ProtoFlow/run", {"run_number": "argo-proto-abc"})[0] == 409
    base = f"{BASE}/argo-proto-abc"
    ingest.post(base + "/steps/start/step", {})
    status, task = ingest.post(base + "/steps/start/task", {"task_id": "t-start"})
    assert status == 200 and task["task_id"] == "t-start" and task["run_number"] == "argo-proto-abc"
    assert ingest.post(base + "/steps/start/task", {"task_id": "t-start"})[0] == 409
    tpath = base + "/steps/start/tasks/t-start"
    # heartbeats: raw "{}" without a content type; the reply is a JSON string holding JSON
    for path in (base + "/heartbeat", tpath + "/heartbeat"):
        status, body, _ = ingest.request("POST", path, b"{}")
        assert status == 200 and json.loads(body) == {"wait_time_in_seconds": 2}
    assert q(db, "SELECT t.status FROM tasks t JOIN runs r USING (run_pk) WHERE t.task_id = 't-start' "
                 "AND r.flow_id = 'ProtoFlow'") == [{"status": "running"}]

    status, body, _ = ingest.request("PATCH", base + "/tag/mutate",
                                     json.dumps({"tags_to_add": ["b", "runtime:dev"],
                                                 "tags_to_remove": ["t1"]}).encode())
    assert status == 200 and body == {"tags": ["b"]}
    status, body, _ = ingest.request("PATCH", base + "/tag/mutate",
                                     json.dumps({"tags_to_add": [], "tags_to_remove": ["user:tester"]}).encode())
    assert status == 422
    status, body, _ = ingest.request("PATCH", base + "/tag/mutate", json.dumps({"tags_to_add": "x"}).encode())
    assert status == 400
    # the run list's tag table (run_tags, kept by triggers) follows the mutation
    assert q(db, "SELECT rt.tag FROM run_tags rt JOIN runs r USING (run_pk) WHERE r.flow_id = 'ProtoFlow' "
                 "AND r.run_id = 'argo-proto-abc' ORDER BY 1") == [{"tag": "b"}]
    # tasks show the run's current tags
    assert ingest.get(tpath)[1]["tags"] == ["b"]


def test_metadata_artifacts_attempts_and_filtered_tasks(ingest: Ingest, db: Any) -> None:
    run = _make_run(ingest)
    ingest.post(f"{BASE}/{run}/steps/sq/step", {})
    ids = [ingest.post(f"{BASE}/{run}/steps/sq/task", {})[1]["task_id"] for _ in range(2)]
    for i, tid in enumerate(ids):
        tpath = f"{BASE}/{run}/steps/sq/tasks/{tid}"
        md = [{"field_name": "attempt", "type": "attempt", "value": "0", "tags": ["attempt_id:0"]},
              {"field_name": "foreach-stack", "type": "foreach-stack", "value": [f"items={i}"],
               "tags": ["attempt_id:0"]},
              {"field_name": "foreach-execution-path", "type": "foreach-execution-path",
               "value": f"sq:{i}", "tags": ["attempt_id:0"]}]
        assert ingest.post(tpath + "/metadata", md) == (200, {"metadata_created": 3})
    tpath = f"{BASE}/{run}/steps/sq/tasks/{ids[1]}"
    ingest.post(tpath + "/metadata", [{"field_name": "attempt_ok", "value": "False", "tags": ["attempt_id:0"],
                                       "type": "internal_attempt_status"}])
    art = {"name": "x", "sha": "a" * 40, "attempt_id": 0, "content_type": "pickle-v4",
           "location": ":root:/nonexistent/root", "ds_type": "local", "type": "metaflow.artifact"}
    assert ingest.post(tpath + "/artifact", [art]) == (200, {"artifacts_created": 1})
    assert ingest.post(tpath + "/artifact", [art]) == (200, {"artifacts_created": 0})
    ingest.post(tpath + "/metadata", [{"field_name": "attempt", "value": "1", "tags": ["attempt_id:1"]}])
    ingest.post(tpath + "/artifact", [dict(art, attempt_id=1, sha="b" * 40)])

    _, rows = ingest.get(tpath + "/metadata")
    assert rows[0]["field_name"] == "attempt" and rows[0]["value"] == "1"     # newest first
    stack = next(r for r in rows if r["field_name"] == "foreach-stack")
    assert stack["value"] == '["items=1"]' and stack["system_tags"] is None and isinstance(stack["id"], int)
    assert [a["sha"] for a in ingest.get(tpath + "/artifacts")[1]] == ["b" * 40]
    assert ingest.get(tpath + "/artifacts/x")[1]["attempt_id"] == 1
    got = ingest.get(tpath + "/artifacts/x/attempt/0")[1]
    assert got["sha"] == "a" * 40 and got["location"] == ":root:/nonexistent/root" and got["ds_type"] == "local"
    assert [a["attempt_id"] for a in ingest.get(tpath + "/attempt/0/artifacts")[1]] == [0]
    assert ingest.get(tpath + "/artifacts/x/attempt/5") == (404, {})

    _status, found = ingest.get(f"{BASE}/{run}/steps/sq/filtered_tasks?metadata_field_name="
                               f"foreach-execution-path&pattern=%5E%28%3F%3Asq%3A1%29%24")
    assert found == [f"ProtoFlow/{run}/sq/{ids[1]}"]
    assert ingest.get(f"{BASE}/{run}/steps/sq/filtered_tasks")[1] == [f"ProtoFlow/{run}/sq/{t}" for t in ids]

    rows = q(db, "SELECT t.foreach_index, t.status, t.attempt FROM tasks t JOIN runs r USING (run_pk) "
                 "WHERE r.flow_id = 'ProtoFlow' AND r.run_id = %s ORDER BY t.task_pk", run)
    # attempt 1 started after the failed attempt 0: the task runs again, and so does the run
    assert rows == [{"foreach_index": 0, "status": "running", "attempt": 0},
                    {"foreach_index": 1, "status": "running", "attempt": 1}]
    assert q(db, "SELECT status FROM runs WHERE flow_id = 'ProtoFlow' AND run_id = %s", run) == [
        {"status": "running"}]
