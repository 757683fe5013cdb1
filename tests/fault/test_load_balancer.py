"""Two backend replicas behind a real load balancer (HAProxy, Debian's package): one is killed
while runs are being written, and every websocket client resyncs through the other with no
event lost and none duplicated (docs/deploy.md, "Scaling out").

The clients are Python websocket clients that follow the frontend's protocol (subscribe, keep the
largest seq, resubscribe with ``since`` after a reconnect): tests/fault/procs.py's FeedClient.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from tests.backend.live_helpers import new_run, new_store
from tests.fault.procs import Backend, FeedClient, wait_until
from tests.server_procs import free_port

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
pytestmark = pytest.mark.skipif(
    HAPROXY is None, reason="HAProxy is not installed (Debian package 'haproxy'; `make haproxy` installs it)")

CLIENTS = 8


class CountingClient(FeedClient):
    """A FeedClient that also keeps every (task, seq) it was sent, to find duplicates."""

    def __init__(self, url: str, resource: str) -> None:
        super().__init__(url, resource)
        self.received: list[tuple[str, int]] = []

    def _handle(self, event: dict[str, Any]) -> None:
        if event["type"] in ("insert", "update"):
            data = event["data"]
            self.received.append((f"{data['step_name']}/{data['task_id']}", event["seq"]))
        super()._handle(event)


def haproxy_config(port: int, backends: list[Backend]) -> str:
    servers = "\n".join(f"    server b{i} 127.0.0.1:{b.port} check inter 200ms fall 1 rise 2"
                        for i, b in enumerate(backends))
    return f"""global
    maxconn 1000
defaults
    mode http
    timeout connect 2s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    retries 3
    option redispatch
frontend ui
    bind 127.0.0.1:{port}
    default_backend flowscope
backend flowscope
    balance roundrobin
    option httpchk GET /api/-/version
{servers}
"""


@pytest.fixture()
def two_backends(flowscope_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, list[Backend]]]:
    backends = [Backend(flowscope_env, tmp_path / f"backend{i}.log") for i in range(2)]
    for b in backends:
        b.start()
    port = free_port()
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(haproxy_config(port, backends))
    assert HAPROXY is not None
    log = (tmp_path / "haproxy.log").open("wb")
    proxy = subprocess.Popen([HAPROXY, "-f", str(cfg), "-db"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/-/version", timeout=2):
                    break
            except OSError:
                if proxy.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"HAProxy did not come up:\n{(tmp_path / 'haproxy.log').read_text()}") \
                        from None
                time.sleep(0.2)
        yield url, backends
    finally:
        proxy.terminate()
        proxy.wait(10)
        log.close()
        for b in backends:
            b.stop()


def db_tasks(dsn: str, run_pk: int) -> dict[str, tuple[str, int]]:
    """Each task's status and latest seq (its row's or its attempts', as the feed reports it)."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("""SELECT t.step_name || '/' || t.task_id, t.status,
                              greatest(t.change_seq, coalesce(max(a.change_seq), 0))
                       FROM tasks t LEFT JOIN attempts a ON a.task_pk = t.task_pk
                       WHERE t.run_pk = %s GROUP BY t.task_pk""", (run_pk,))
        return {k: (status, seq) for k, status, seq in cur.fetchall()}


def shown(client: FeedClient) -> dict[str, tuple[str, int]]:
    return {k: (v["status"], v["seq"]) for k, v in client.state.items()}


def write_tasks(dsn: str, run: Any, n: int, pause: float, stop: threading.Event) -> None:
    store = new_store(dsn)
    for i in range(n):
        if stop.is_set():
            return
        task = store.create_task(run, "work")
        store.start_attempt(task, 0)
        if i % 4:
            store.finish_attempt(task, 0, status="completed" if i % 7 else "failed", exit_code=0 if i % 7 else 1)
        time.sleep(pause)


def hub_clients(backend: Backend) -> int:
    return int(backend.get("/api/-/status")["data"]["websockets"]["clients"])


async def test_killed_replica_clients_resync_through_the_other(
        two_backends: tuple[str, list[Backend]], pg_dsn: str) -> None:
    url, (first, second) = two_backends
    store = new_store(pg_dsn)
    run = new_run(store, "ReplicaFlow")
    resource = f"/api/flows/ReplicaFlow/runs/{run.run_id}/tasks"
    clients = [CountingClient(url, resource) for _ in range(CLIENTS)]
    stop = threading.Event()
    writer = None
    try:
        for c in clients:
            c.start()
        await wait_until(lambda: all(c.since is not None for c in clients), 20, "every subscription")
        spread = (hub_clients(first), hub_clients(second))
        assert sum(spread) == CLIENTS and min(spread) >= 1, f"the balancer spread the clients {spread}"

        writer = threading.Thread(target=write_tasks, args=(pg_dsn, run, 60, 0.05, stop), daemon=True)
        writer.start()
        await wait_until(lambda: all(len(c.state) >= 5 for c in clients), 20, "the first events")
        assert first.proc is not None
        os.kill(first.proc.pid, signal.SIGKILL)          # mid-write, no goodbye to its clients
        first.proc.wait(10)
        await asyncio.to_thread(writer.join, 60)
        assert not writer.is_alive()

        expected = db_tasks(pg_dsn, run.run_pk)
        assert len(expected) == 60
        await wait_until(lambda: all(shown(c) == expected for c in clients), 40, "every client to resync")
        assert hub_clients(second) == CLIENTS             # all of them now through the survivor
        moved = [c for c in clients if c.reconnects >= 1]
        assert len(moved) == spread[0], "exactly the killed replica's clients reconnected"
        for c in clients:
            duplicates = [k for k, n in Counter(c.received).items() if n > 1]
            assert duplicates == [], f"events sent twice: {duplicates[:5]}"
        # And live afterwards, through the survivor.
        more = threading.Thread(target=write_tasks, args=(pg_dsn, run, 5, 0.0, threading.Event()))
        more.start()
        await asyncio.to_thread(more.join, 30)
        expected = db_tasks(pg_dsn, run.run_pk)
        await wait_until(lambda: all(shown(c) == expected for c in clients), 20, "live after the failover")
    finally:
        stop.set()
        for c in clients:
            await c.stop()
