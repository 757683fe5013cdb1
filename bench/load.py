"""``python -m bench.load URL``: websocket clients plus a steady API request rate against a backend.

N websocket clients stay subscribed (each to the run list and to one run's tasks, as the run page
does) while an open-loop scheduler fires M API requests per second at a mix of list and detail
routes for T seconds. Reports errors, latency percentiles and, with --pid, the backend's RSS over
time. A benchmark, not a test: it prints figures and exits 1 only if there were errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp


@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    by_route: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    ws_connected: int = 0
    ws_failed: int = 0
    ws_dropped: int = 0
    ws_messages: int = 0
    rss_mb: list[tuple[float, float]] = field(default_factory=list)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    p.add_argument("url", help="backend base URL, e.g. http://127.0.0.1:8083")
    p.add_argument("--clients", type=int, default=1000, help="websocket clients (default 1000)")
    p.add_argument("--rps", type=float, default=200, help="API requests per second (default 200)")
    p.add_argument("--seconds", type=float, default=60, help="duration (default 60)")
    p.add_argument("--pid", type=int, default=None, help="backend process id, to sample its RSS")
    p.add_argument("--token", default=None, help="FLOWSCOPE_AUTH_TOKEN of the backend, if set")
    p.add_argument("--json", default=None, help="also write the summary to this file")
    return p.parse_args(argv)


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


async def targets(session: aiohttp.ClientSession, url: str) -> tuple[list[str], list[str]]:
    """API paths to request, and run paths for the websocket subscriptions."""
    async with session.get(f"{url}/api/runs", params={"limit": "50"}) as resp:
        body = await resp.json()
    runs: list[dict[str, Any]] = (body.get("data") or body.get("items") or []) if isinstance(body, dict) else body
    run_paths = [f"/api/flows/{r['flow_id']}/runs/{r['run_id']}" for r in runs]
    if not run_paths:
        raise SystemExit("the backend has no runs: seed or record some first")
    api = ["/api/runs", "/api/runs?status=failed", "/api/flows", "/api/-/status"]
    for run in run_paths[:20]:
        api += [run, f"{run}/tasks", f"{run}/dag", f"{run}/timeline"]
    return api, run_paths


async def ws_client(session: aiohttp.ClientSession, url: str, run: str, stats: Stats,
                    stop: asyncio.Event) -> None:
    try:
        async with session.ws_connect(f"{url}/api/ws", heartbeat=30, timeout=aiohttp.ClientWSTimeout(ws_close=5)) as ws:
            await ws.send_json({"type": "subscribe", "id": "runs", "resource": "/api/runs"})
            await ws.send_json({"type": "subscribe", "id": "tasks", "resource": f"{run}/tasks"})
            stats.ws_connected += 1
            while not stop.is_set():
                try:
                    msg = await asyncio.wait_for(ws.receive(), 1.0)
                except TimeoutError:
                    continue
                if msg.type != aiohttp.WSMsgType.TEXT:
                    if not stop.is_set():
                        stats.ws_dropped += 1
                        stats.errors.append(f"websocket closed: {msg.type.name} {msg.data!r}")
                    return
                stats.ws_messages += 1
                if json.loads(msg.data).get("type") == "error":
                    stats.errors.append(f"websocket error message: {msg.data[:200]}")
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        stats.ws_failed += 1
        stats.errors.append(f"websocket connect: {type(exc).__name__}: {exc}")


async def one_request(session: aiohttp.ClientSession, url: str, stats: Stats) -> None:
    began = time.perf_counter()
    try:
        async with session.get(url) as resp:
            await resp.read()
            stats.statuses[resp.status] = stats.statuses.get(resp.status, 0) + 1
            if resp.status != 200:
                stats.errors.append(f"{resp.status} {url}")
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        stats.errors.append(f"{type(exc).__name__} {url}: {exc}")
        return
    took = (time.perf_counter() - began) * 1000
    stats.latencies_ms.append(took)
    stats.by_route.setdefault(route_of(url), []).append(took)


def route_of(url: str) -> str:
    """/api/flows/F/runs/12/tasks -> runs/{run}/tasks: latencies grouped by kind of route."""
    path = url.split("/api/", 1)[-1]
    if path.startswith("flows/") and "/runs/" in path:
        rest = path.split("/runs/", 1)[1].split("/", 1)
        return "run" + ("/" + rest[1] if len(rest) > 1 else "")
    return path


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    stats = Stats()
    stop = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, headers=headers, timeout=timeout) as session:
        api, runs = await targets(session, args.url)
        rng = random.Random(7)
        clients = []
        for i in range(args.clients):   # ramp up: 100 connections at a time
            clients.append(asyncio.create_task(ws_client(session, args.url, runs[i % len(runs)], stats, stop)))
            if i % 100 == 99:
                await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        connected_before = stats.ws_connected
        began = time.monotonic()
        pending: set[asyncio.Task[None]] = set()
        n = 0
        next_rss = began
        while (now := time.monotonic()) - began < args.seconds:
            due = int((now - began) * args.rps)
            while n < due:   # open loop: a slow server does not slow the offered load
                task = asyncio.create_task(one_request(session, args.url + rng.choice(api), stats))
                pending.add(task)
                task.add_done_callback(pending.discard)
                n += 1
            if args.pid and now >= next_rss:
                value = rss_mb(args.pid)
                if value is not None:
                    stats.rss_mb.append((round(now - began, 1), round(value, 1)))
                next_rss = now + 5
            await asyncio.sleep(0.005)
        if pending:
            await asyncio.wait(pending, timeout=30)
        elapsed = time.monotonic() - began
        stop.set()
        await asyncio.gather(*clients)
    lat = stats.latencies_ms
    return {
        "url": args.url, "clients": args.clients, "rps_offered": args.rps, "seconds": round(elapsed, 1),
        "ws_connected": connected_before, "ws_failed": stats.ws_failed, "ws_dropped": stats.ws_dropped,
        "ws_messages": stats.ws_messages, "requests": n, "rps_achieved": round(len(lat) / elapsed, 1),
        "statuses": stats.statuses, "errors": len(stats.errors), "first_errors": stats.errors[:10],
        "latency_ms": {f"p{q}": round(percentile(lat, q), 1) for q in (50, 90, 99)} | {
            "max": round(max(lat), 1) if lat else None},
        "by_route_ms": {route: {"n": len(v), "p50": round(percentile(v, 50), 1), "p99": round(percentile(v, 99), 1)}
                        for route, v in sorted(stats.by_route.items())},
        "rss_mb": stats.rss_mb,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    summary = asyncio.run(run(args))
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
