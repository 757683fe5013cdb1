"""A test-only metadata service writing metaflow-service's v3 tables, for real ``metaflow`` runs.

The mirror's tests need a source database filled "the way the real service does". The real
service (Netflix's metaflow-service) is not installable here, so this small aiohttp app speaks
the same HTTP API to the metaflow client and performs, per call, the writes the service's code
performs (read from its source, re-implemented, not copied):

* every insert is its own autocommit statement with ``ts_epoch`` = the server's clock in ms
  (metadata and artifacts: one INSERT per item of the POSTed list);
* runs and tasks get ``last_heartbeat_ts`` (seconds) at creation when the client's
  ``metaflow_version`` is heartbeat-capable (>= 2.2.12); creating a task also beats its run;
* a heartbeat updates ``last_heartbeat_ts`` only if the stored one is at least 10 s old (the
  service answers 404 otherwise, which the client's sidecar tolerates); a task beat first
  beats its run;
* tag mutation rewrites ``runs_v3.tags`` in a SERIALIZABLE transaction;
* orchestrator ids go to ``run_id``/``task_name``; reads return them in place of the numbers;
  steps, tasks and artifacts are returned with their run's current tags.

Run it as ``python -m tests.mirror.v3_service --dsn DSN --port P [--schema S]``.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from typing import Any

import aiopg
import psycopg2
import psycopg2.extras
from aiohttp import web

VERSION = "2.5.1"
WAIT_S = 10
POOL = web.AppKey("pool", aiopg.Pool)
SCHEMA = web.AppKey("schema", str)


def _ms() -> int:
    return round(time.time() * 1000)


def _heartbeat_capable(system_tags: Any) -> bool:
    tags = [t for t in system_tags or [] if isinstance(t, str) and t.startswith("metaflow_version:")]
    if not tags:
        return False
    m = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", tags[0][len("metaflow_version:"):])
    if m is None:
        return True
    v = tuple(int(x or 0) for x in m.groups())
    return v >= (1, 14, 0) if v[0] == 1 else v >= (2, 2, 12)


def _reply(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json.dumps(body), content_type="application/json",
                        headers={"METADATA_SERVICE_VERSION": VERSION})


def _t(request: web.Request, name: str) -> str:
    return f'"{request.app[SCHEMA]}"."{name}_v3"' if name != "artifact" else f'"{request.app[SCHEMA]}".artifact_v3'


async def _rows(request: web.Request, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    async with request.app[POOL].acquire() as conn, \
            conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        await cur.execute(sql, params)
        return [dict(r) for r in await cur.fetchall()] if cur.description else []


async def _insert(request: web.Request, table: str, row: dict[str, Any]) -> dict[str, Any] | None:
    """One INSERT ... RETURNING *, autocommit; None on a duplicate key (the service's 409)."""
    row = dict(row, ts_epoch=_ms())
    cols = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    try:
        rows = await _rows(request, f"INSERT INTO {_t(request, table)} ({cols}) VALUES ({marks}) RETURNING *",
                           tuple(row.values()))
    except psycopg2.IntegrityError:
        return None
    return rows[0]


def _run_key(run: str) -> tuple[str, Any]:
    return ("run_number", int(run)) if run.isnumeric() else ("run_id", run)


def _task_key(task: str) -> tuple[str, Any]:
    return ("task_id", int(task)) if task.isnumeric() else ("task_name", task)


def _exposed_run(row: dict[str, Any]) -> Any:
    return row["run_id"] if row.get("run_id") is not None else row["run_number"]


def _exposed_task(row: dict[str, Any]) -> Any:
    return row["task_name"] if row.get("task_name") is not None else row["task_id"]


async def _run(request: web.Request) -> dict[str, Any] | None:
    m = request.match_info
    key, value = _run_key(m["run"])
    rows = await _rows(request, f"SELECT * FROM {_t(request, 'runs')} WHERE flow_id = %s AND {key} = %s",
                       (m["flow"], value))
    return rows[0] if rows else None


async def _task(request: web.Request, run: dict[str, Any]) -> dict[str, Any] | None:
    m = request.match_info
    key, value = _task_key(m["task"])
    rows = await _rows(request, f"SELECT * FROM {_t(request, 'tasks')} WHERE flow_id = %s AND run_number = %s "
                                f"AND step_name = %s AND {key} = %s",
                       (m["flow"], run["run_number"], m["step"], value))
    return rows[0] if rows else None


def run_obj(r: dict[str, Any]) -> dict[str, Any]:
    return {"flow_id": r["flow_id"], "run_number": _exposed_run(r), "user_name": r["user_name"],
            "ts_epoch": r["ts_epoch"], "tags": r["tags"], "system_tags": r["system_tags"],
            "last_heartbeat_ts": r["last_heartbeat_ts"]}


def step_obj(s: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    return {"flow_id": s["flow_id"], "run_number": str(_exposed_run(run)), "step_name": s["step_name"],
            "user_name": s["user_name"], "ts_epoch": s["ts_epoch"], "tags": run["tags"],
            "system_tags": run["system_tags"]}


def task_obj(t: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    return {"flow_id": t["flow_id"], "run_number": _exposed_run(run), "step_name": t["step_name"],
            "task_id": _exposed_task(t), "user_name": t["user_name"], "ts_epoch": t["ts_epoch"],
            "tags": run["tags"], "system_tags": run["system_tags"], "last_heartbeat_ts": t["last_heartbeat_ts"]}


def metadata_obj(m: dict[str, Any], run: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    return {"id": m["id"], "flow_id": m["flow_id"], "run_number": _exposed_run(run), "step_name": m["step_name"],
            "task_id": _exposed_task(task), "field_name": m["field_name"], "value": m["value"],
            "type": m["type"], "user_name": m["user_name"], "ts_epoch": m["ts_epoch"], "tags": m["tags"],
            "system_tags": m["system_tags"]}


def artifact_obj(a: dict[str, Any], run: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    return {"flow_id": a["flow_id"], "run_number": _exposed_run(run), "step_name": a["step_name"],
            "task_id": _exposed_task(task), "name": a["name"], "location": a["location"],
            "ds_type": a["ds_type"], "sha": a["sha"], "type": a["type"], "content_type": a["content_type"],
            "user_name": a["user_name"], "attempt_id": a["attempt_id"], "ts_epoch": a["ts_epoch"],
            "tags": run["tags"], "system_tags": run["system_tags"]}


# -- handlers -----------------------------------------------------------------------------------

async def ping(request: web.Request) -> web.Response:
    return web.Response(text="pong", headers={"METADATA_SERVICE_VERSION": VERSION})


async def get_flows(request: web.Request) -> web.Response:
    rows = await _rows(request, f"SELECT * FROM {_t(request, 'flows')}")
    return _reply(rows)


async def get_flow(request: web.Request) -> web.Response:
    rows = await _rows(request, f"SELECT * FROM {_t(request, 'flows')} WHERE flow_id = %s",
                       (request.match_info["flow"],))
    return _reply(rows[0]) if rows else _reply({}, 404)


async def create_flow(request: web.Request) -> web.Response:
    body = await request.json()
    row = await _insert(request, "flows", {"flow_id": request.match_info["flow"], "user_name": body.get("user_name"),
                                           "tags": json.dumps(body.get("tags")),
                                           "system_tags": json.dumps(body.get("system_tags"))})
    return _reply(row) if row else _reply(json.dumps({"err_msg": "duplicate key"}), 409)


async def create_run(request: web.Request) -> web.Response:
    body = await request.json()
    run_id = body.get("run_number")
    if run_id is not None and str(run_id).isnumeric():
        return _reply({"err_msg": "provided run_id may not be a numeric"}, 500)
    system_tags = body.get("system_tags")
    row = await _insert(request, "runs", {
        "flow_id": request.match_info["flow"], "user_name": body.get("user_name"),
        "tags": json.dumps(body.get("tags")), "system_tags": json.dumps(system_tags), "run_id": run_id,
        "last_heartbeat_ts": int(time.time()) if _heartbeat_capable(system_tags) else None})
    return _reply(run_obj(row)) if row else _reply(json.dumps({"err_msg": "duplicate key"}), 409)


async def get_runs(request: web.Request) -> web.Response:
    rows = await _rows(request, f"SELECT * FROM {_t(request, 'runs')} WHERE flow_id = %s",
                       (request.match_info["flow"],))
    return _reply([run_obj(r) for r in rows])


async def get_run(request: web.Request) -> web.Response:
    run = await _run(request)
    return _reply(run_obj(run)) if run else _reply({}, 404)


async def _beat(request: web.Request, table: str, where: str, params: tuple[Any, ...]) -> int:
    now = int(time.time())
    async with request.app[POOL].acquire() as conn, conn.cursor() as cur:
        await cur.execute(f"UPDATE {_t(request, table)} SET last_heartbeat_ts = %s WHERE {where} AND "
                          "(last_heartbeat_ts IS NULL OR last_heartbeat_ts <= %s)", (now, *params, now - WAIT_S))
        return int(cur.rowcount)


async def run_heartbeat(request: web.Request) -> web.Response:
    m = request.match_info
    key, value = _run_key(m["run"])
    n = await _beat(request, "runs", f"flow_id = %s AND {key} = %s", (m["flow"], value))
    return _reply(json.dumps({"wait_time_in_seconds": WAIT_S}), 200 if n == 1 else 404)


async def task_heartbeat(request: web.Request) -> web.Response:
    m = request.match_info
    rkey, rvalue = _run_key(m["run"])
    await _beat(request, "runs", f"flow_id = %s AND {rkey} = %s", (m["flow"], rvalue))
    tkey, tvalue = _task_key(m["task"])
    n = await _beat(request, "tasks", f"flow_id = %s AND {rkey} = %s AND step_name = %s AND {tkey} = %s",
                    (m["flow"], rvalue, m["step"], tvalue))
    return _reply(json.dumps({"wait_time_in_seconds": WAIT_S}), 200 if n == 1 else 404)


async def mutate_tags(request: web.Request) -> web.Response:
    body = await request.json()
    add, remove = body.get("tags_to_add", []), body.get("tags_to_remove", [])
    if not isinstance(add, list) or not isinstance(remove, list):
        return _reply("tags_to_add and tags_to_remove must be lists", 400)
    m = request.match_info
    key, value = _run_key(m["run"])
    async with request.app[POOL].acquire() as conn, \
            conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        try:
            async with cur.begin():
                await cur.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                await cur.execute(f"SELECT * FROM {_t(request, 'runs')} WHERE flow_id = %s AND {key} = %s",
                                  (m["flow"], value))
                run = await cur.fetchone()
                if run is None:
                    return _reply({}, 404)
                existing, system = set(run["tags"] or []), set(run["system_tags"] or [])
                if set(remove) & system:
                    return _reply(f"Cannot remove tags that are existing system tags {set(remove) & system}", 422)
                new = (existing - set(remove)) | (set(add) - system)
                if new != existing:
                    await cur.execute(f"UPDATE {_t(request, 'runs')} SET tags = %s WHERE flow_id = %s AND "
                                      f"{key} = %s", (json.dumps(list(new)), m["flow"], value))
        except psycopg2.errors.SerializationFailure:
            return _reply("Conflicting concurrent tag mutation, please retry", 409)
    return _reply({"tags": list(new)})


async def get_steps(request: web.Request) -> web.Response:
    run = await _run(request)
    if run is None:
        return _reply({}, 404)
    rows = await _rows(request, f"SELECT * FROM {_t(request, 'steps')} WHERE flow_id = %s AND run_number = %s",
                       (run["flow_id"], run["run_number"]))
    return _reply([step_obj(s, run) for s in rows])


async def get_step(request: web.Request) -> web.Response:
    run = await _run(request)
    rows = await _rows(request, f"SELECT * FROM {_t(request, 'steps')} WHERE flow_id = %s AND run_number = %s "
                                "AND step_name = %s", (run["flow_id"], run["run_number"],
                                                       request.match_info["step"])) if run else []
    return _reply(step_obj(rows[0], run)) if run and rows else _reply({}, 404)


async def create_step(request: web.Request) -> web.Response:
    body = await request.json()
    run = await _run(request)
    if run is None:
        return _reply({}, 404)
    row = await _insert(request, "steps", {
        "flow_id": run["flow_id"], "run_number": run["run_number"],
        "run_id": run["run_id"] if run["run_id"] is not None else str(run["run_number"]),
        "step_name": request.match_info["step"], "user_name": body.get("user_name", ""),
        "tags": json.dumps(body.get("tags")), "system_tags": json.dumps(body.get("system_tags"))})
    return _reply(step_obj(row, run)) if row else _reply(json.dumps({"err_msg": "duplicate key"}), 409)


async def get_tasks(request: web.Request) -> web.Response:
    run = await _run(request)
    if run is None:
        return _reply({}, 404)
    rows = await _rows(request, f"SELECT * FROM {_t(request, 'tasks')} WHERE flow_id = %s AND run_number = %s "
                                "AND step_name = %s", (run["flow_id"], run["run_number"], request.match_info["step"]))
    return _reply([task_obj(t, run) for t in rows])


async def get_task(request: web.Request) -> web.Response:
    run = await _run(request)
    task = await _task(request, run) if run else None
    return _reply(task_obj(task, run)) if run and task else _reply({}, 404)


async def create_task(request: web.Request) -> web.Response:
    body = await request.json()
    name = body.get("task_id")
    if name is not None and str(name).isnumeric():
        return web.Response(status=400, body=json.dumps({"message": "provided task_name may not be a numeric"}))
    run = await _run(request)
    if run is None:
        return _reply({"err_msg": "run not found"}, 500)
    system_tags = body.get("system_tags")
    beats = _heartbeat_capable(system_tags)
    row = await _insert(request, "tasks", {
        "flow_id": run["flow_id"], "run_number": run["run_number"], "run_id": run["run_id"],
        "step_name": request.match_info["step"], "task_name": name, "user_name": body.get("user_name"),
        "tags": json.dumps(body.get("tags")), "system_tags": json.dumps(system_tags),
        "last_heartbeat_ts": int(time.time()) if beats else None})
    if row is None:
        return _reply(json.dumps({"err_msg": "duplicate key"}), 409)
    if beats:
        await _beat(request, "runs", "flow_id = %s AND run_number = %s", (run["flow_id"], run["run_number"]))
    return _reply(task_obj(row, run))


async def create_metadata(request: web.Request) -> web.Response:
    body = await request.json()
    run = await _run(request)
    task = await _task(request, run) if run else None
    if run is None or task is None:
        return web.Response(status=400, body=json.dumps({"message": "need to register run_id and task_id first"}))
    count = 0
    for datum in body:
        row = await _insert(request, "metadata", {
            "flow_id": run["flow_id"], "run_number": run["run_number"], "run_id": run["run_id"],
            "step_name": task["step_name"], "task_id": task["task_id"], "task_name": task["task_name"],
            # A list value (foreach-stack) goes through the driver as a Postgres array literal.
            "field_name": datum.get("field_name", " "), "value": datum.get("value", " "),
            "type": datum.get("type", " "), "user_name": datum.get("user_name"),
            "tags": json.dumps(datum.get("tags")), "system_tags": json.dumps(datum.get("system_tags"))})
        count += row is not None
    return web.Response(body=json.dumps({"metadata_created": count}))


async def get_metadata(request: web.Request) -> web.Response:
    run = await _run(request)
    task = await _task(request, run) if run else None
    if run is None or task is None:
        return _reply({}, 404)
    rows = await _rows(request, f"SELECT * FROM {_t(request, 'metadata')} WHERE flow_id = %s AND run_number = %s "
                                "AND step_name = %s AND task_id = %s ORDER BY ts_epoch DESC, id DESC",
                       (run["flow_id"], run["run_number"], task["step_name"], task["task_id"]))
    return _reply([metadata_obj(r, run, task) for r in rows])


async def filtered_tasks(request: web.Request) -> web.Response:
    run = await _run(request)
    if run is None:
        return _reply({}, 404)
    field, pattern = request.query.get("metadata_field_name"), request.query.get("pattern")
    conds, params = ["t.flow_id = %s", "t.run_number = %s", "t.step_name = %s"], [
        run["flow_id"], run["run_number"], request.match_info["step"]]
    sub = "SELECT 1 FROM {m} m WHERE m.flow_id = t.flow_id AND m.run_number = t.run_number AND m.step_name = " \
          "t.step_name AND m.task_id = t.task_id".format(m=_t(request, "metadata"))
    if field:
        sub += " AND m.field_name = %s"
        params.append(field)
    if pattern:
        sub += " AND regexp_match(m.value, %s) IS NOT NULL"
        params.append(pattern)
    rows = await _rows(request, f"SELECT t.* FROM {_t(request, 'tasks')} t WHERE {' AND '.join(conds)} "
                                f"AND EXISTS ({sub}) ORDER BY t.task_id", tuple(params))
    m = request.match_info
    return _reply([f"{m['flow']}/{m['run']}/{m['step']}/{_exposed_task(t)}" for t in rows])


async def create_artifacts(request: web.Request) -> web.Response:
    body = await request.json()
    run = await _run(request)
    task = await _task(request, run) if run else None
    if run is None or task is None:
        return web.Response(status=400, body=json.dumps({"message": "need to register run_id and task_id first"}))
    count = 0
    for a in body:
        row = await _insert(request, "artifact", {
            "flow_id": run["flow_id"], "run_number": run["run_number"], "run_id": run["run_id"],
            "step_name": task["step_name"], "task_id": task["task_id"], "task_name": task["task_name"],
            "name": a.get("name", " "), "location": a.get("location", " "), "ds_type": a.get("ds_type", " "),
            "sha": a.get("sha", " "), "type": a.get("type", " "), "content_type": a.get("content_type", " "),
            "attempt_id": a.get("attempt_id", 0), "user_name": a.get("user_name", " "),
            "tags": json.dumps(a.get("tags")), "system_tags": json.dumps(a.get("system_tags"))})
        count += row is not None
    return web.Response(body=json.dumps({"artifacts_created": count}))


async def _artifacts(request: web.Request) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]] | None:
    run = await _run(request)
    task = await _task(request, run) if run else None
    if run is None or task is None:
        return None
    rows = await _rows(request, f"SELECT * FROM {_t(request, 'artifact')} WHERE flow_id = %s AND run_number = %s "
                                "AND step_name = %s AND task_id = %s ORDER BY attempt_id DESC",
                       (run["flow_id"], run["run_number"], task["step_name"], task["task_id"]))
    return run, task, rows


async def get_artifacts(request: web.Request) -> web.Response:
    found = await _artifacts(request)
    if found is None:
        return _reply({}, 404)
    run, task, rows = found
    attempt = request.match_info.get("attempt")
    want = int(attempt) if attempt is not None else max((r["attempt_id"] for r in rows), default=0)
    return _reply([artifact_obj(a, run, task) for a in rows if a["attempt_id"] == want])


async def get_artifact(request: web.Request) -> web.Response:
    found = await _artifacts(request)
    if found is None:
        return _reply({}, 404)
    run, task, rows = found
    attempt = request.match_info.get("attempt")
    # "Latest" = the attempt of the artifact called "name", which every attempt has.
    if attempt is None:
        names = [r for r in rows if r["name"] == "name"]
        want = names[0]["attempt_id"] if names else 0
    else:
        want = int(attempt)
    hit = [a for a in rows if a["name"] == request.match_info["name"] and a["attempt_id"] == want]
    return _reply(artifact_obj(hit[0], run, task)) if hit else _reply({}, 404)


RUN = "/flows/{flow}/runs/{run}"
TASK = RUN + "/steps/{step}/tasks/{task}"


def create_app(dsn: str, schema: str = "public") -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[SCHEMA] = schema

    async def pool_ctx(app: web.Application) -> Any:
        app[POOL] = await aiopg.create_pool(dsn, minsize=1, maxsize=20)
        yield
        app[POOL].close()
        await app[POOL].wait_closed()

    app.cleanup_ctx.append(pool_ctx)
    r = app.router
    r.add_get("/ping", ping)
    r.add_get("/flows", get_flows)
    r.add_get("/flows/{flow}", get_flow)
    r.add_post("/flows/{flow}", create_flow)
    r.add_post("/flows/{flow}/run", create_run)
    r.add_get("/flows/{flow}/runs", get_runs)
    r.add_get(RUN, get_run)
    r.add_post(RUN + "/heartbeat", run_heartbeat)
    r.add_patch(RUN + "/tag/mutate", mutate_tags)
    r.add_get(RUN + "/steps", get_steps)
    r.add_get(RUN + "/steps/{step}", get_step)
    r.add_post(RUN + "/steps/{step}/step", create_step)
    r.add_get(RUN + "/steps/{step}/tasks", get_tasks)
    r.add_get(TASK, get_task)
    r.add_post(RUN + "/steps/{step}/task", create_task)
    r.add_post(TASK + "/heartbeat", task_heartbeat)
    r.add_get(RUN + "/steps/{step}/filtered_tasks", filtered_tasks)
    r.add_post(TASK + "/metadata", create_metadata)
    r.add_get(TASK + "/metadata", get_metadata)
    r.add_post(TASK + "/artifact", create_artifacts)
    r.add_get(TASK + "/artifacts", get_artifacts)
    r.add_get(TASK + "/artifacts/{name}", get_artifact)
    r.add_get(TASK + "/artifacts/{name}/attempt/{attempt:[0-9]+}", get_artifact)
    r.add_get(TASK + "/attempt/{attempt:[0-9]+}/artifacts", get_artifacts)
    return app


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dsn", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--schema", default="public")
    args = p.parse_args()
    web.run_app(create_app(args.dsn, args.schema), host="127.0.0.1", port=args.port, access_log=None,
                print=lambda m: print(m, flush=True))


if __name__ == "__main__":
    main()
