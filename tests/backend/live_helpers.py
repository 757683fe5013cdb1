"""Helpers for websocket tests: writing rows as the runtime does, reading events with deadlines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import psycopg2
from aiohttp import ClientWebSocketResponse

from core_runtime.store import RunRef, RunStore, TaskRef


def new_store(dsn: str) -> RunStore:
    return RunStore(psycopg2.connect(dsn))


def new_run(store: RunStore, flow: str = "LiveFlow") -> RunRef:
    dag = {"start_step": "start", "end_step": "end", "steps": {
        "start": {"name": "start", "type": "start", "next": ["end"], "line": 1, "doc": "", "decorators": []},
        "end": {"name": "end", "type": "end", "next": [], "line": 5, "doc": "", "decorators": []}},
        "graph_structure": ["start", "end"]}
    return store.create_run(flow, user="tester", dag=dag, file_name="live.py", source="")


def running_task(store: RunStore, flow: str) -> tuple[RunRef, TaskRef]:
    """A new run of ``flow`` with one running task and a fresh heartbeat (which then stops)."""
    run = new_run(store, flow)
    task = store.create_task(run, "start")
    store.start_attempt(task, 0)
    store.heartbeat(run, [task.task_pk])
    return run, task


async def next_event(ws: ClientWebSocketResponse, timeout: float = 10.0,
                     match: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
    """The next message (skipping 'subscribed' acks and non-matching ones) within ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError("no matching websocket event in time")
        msg = await asyncio.wait_for(ws.receive(), remaining)
        assert msg.type.name == "TEXT", f"websocket closed: {msg}"
        data = json.loads(msg.data)
        if data["type"] == "subscribed":
            continue
        if match is None or match(data):
            return data


async def drain(ws: ClientWebSocketResponse, quiet: float = 0.5) -> list[dict[str, Any]]:
    """Every message until the socket stays quiet for ``quiet`` seconds."""
    out = []
    while True:
        try:
            msg = await asyncio.wait_for(ws.receive(), quiet)
        except TimeoutError:
            return out
        data = json.loads(msg.data)
        if data["type"] != "subscribed":
            out.append(data)
