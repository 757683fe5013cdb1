"""Where a response-cache miss spends the backend's time: py-spy samples of one backend process.

    FLOWSCOPE_HOME=/path/to/seeded/home python -m bench.profile [--path /api/runs] [--clients 32]
        [--seconds 8] [--top 15] [--raw samples.txt]

A backend is started with the response cache off; `--clients` lean clients (bench/http_client.py)
request `--path` for a warm-up second and then for `--seconds` while py-spy (the `py-spy` next to
this Python) samples the process at 250 Hz. Each sample is charged to a share by its leaf frame
(then by the first frame from the leaf up that names a layer). py-spy leaves out idle samples
(waiting in epoll), but a thread that is runnable and not scheduled still counts: on a busy
machine, preemption shows up in the system calls that wake another process (sending the query,
writing the response). The load average is printed with the shares, then the ``--top`` leaf
functions (where the samples' own time was spent); ``--raw`` keeps py-spy's collapsed stacks.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import sys
import tempfile
from collections.abc import Callable

from bench.api import start_backend, stop_backend, wait_up
from bench.api_report import load_average
from bench.throughput import drive

# (share, test on the leaf frame); the first that matches wins.
LEAF: list[tuple[str, Callable[[str], bool]]] = [
    # Db._send (backend/db/query.py) hands the statement to psycopg2 itself since cpu19
    ("execute: handing the query to Postgres", lambda f: "Cursor.execute" in f or f.startswith("Db._send ")),
    ("fetching and decoding rows", lambda f: "fetchall" in f or "_loads_jsonb" in f or "typecast" in f
     or "backend/db/query.py" in f),
    ("writing the response to the socket", lambda f: "selector_events" in f and "write" in f),
    ("JSON encoding", lambda f: "backend/api/respond.py" in f or "orjson" in f),
]
# (share, substring of a frame), looked for from the leaf upwards when no leaf rule matched.
LAYERS = [
    ("shaping rows (backend/resources)", "backend/resources/"),
    ("statement text and parameters (backend/db)", "backend/db/"),
    ("middleware (errors, auth, response cache)", "backend/cache/"),
    ("middleware (errors, auth, response cache)", "backend/auth"),
    ("middleware (errors, auth, response cache)", "backend/errors"),
    ("aiopg: connections, cursors", "aiopg/"),
    ("aiohttp: HTTP parsing and writing", "aiohttp/"),
    ("the event loop", "asyncio/"),
]


def share_of(stack: list[str]) -> str:
    leaf = stack[-1] if stack else ""
    for name, test in LEAF:
        if test(leaf):
            return name
    for frame in reversed(stack):
        for name, key in LAYERS:
            if key in frame:
                return name
    return "other"


def shares(raw_path: str) -> tuple[collections.Counter[str], int, collections.Counter[str]]:
    """py-spy's raw (collapsed) output: 'frame;frame;... count' per line. Returns the samples per
    share, their total and the samples per leaf frame."""
    counts: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    total = 0
    with open(raw_path) as f:
        for line in f:
            stack, _, n = line.rstrip().rpartition(" ")
            if not n.isdigit():
                continue
            frames = stack.split(";")
            counts[share_of(frames)] += int(n)
            leaves[frames[-1] if frames else ""] += int(n)
            total += int(n)
    return counts, total, leaves


async def profile(args: argparse.Namespace) -> int:
    spy_bin = os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(spy_bin):
        print(f"py-spy is not installed next to {sys.executable} (pip install py-spy)", file=sys.stderr)
        return 2
    proc = start_backend(args.port, response_cache=False)
    base = f"http://127.0.0.1:{args.port}"
    try:
        await wait_up(base, proc)
        await drive(base + args.path, args.clients, 1.0)
        with tempfile.TemporaryDirectory() as tmp:
            raw = os.path.join(tmp, "samples.txt")
            spy = await asyncio.create_subprocess_exec(
                spy_bin, "record", "-p", str(proc.pid), "-d", str(int(args.seconds)), "-r", "250",
                "--format", "raw", "-o", raw, "--nonblocking",
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            latencies, _ = await drive(base + args.path, args.clients, args.seconds)
            _, err = await asyncio.wait_for(spy.communicate(), 120)
            if spy.returncode != 0 or not os.path.exists(raw):
                print(f"py-spy failed: {err.decode()[-500:]}", file=sys.stderr)
                return 1
            counts, total, leaves = shares(raw)
            if args.raw:
                shutil.copyfile(raw, args.raw)
    finally:
        stop_backend(proc)
    print(f"GET {args.path}: {len(latencies) / args.seconds:.0f} answers/s with {args.clients} clients, "
          f"{total} samples, load average {load_average()}")
    for name, n in counts.most_common():
        print(f"  {100 * n / max(total, 1):5.1f} %  {name}")
    if args.top:
        print(f"top {args.top} leaf functions:")
        for name, n in leaves.most_common(args.top):
            print(f"  {100 * n / max(total, 1):5.1f} %  {name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.profile", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--path", default="/api/runs", help="the request to profile (default: the home page's list)")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--port", type=int, default=8891)
    p.add_argument("--top", type=int, default=15, help="list this many leaf functions by samples (0: none)")
    p.add_argument("--raw", help="keep py-spy's collapsed stacks in this file")
    args = p.parse_args(argv)
    if not os.environ.get("FLOWSCOPE_HOME"):
        print("set FLOWSCOPE_HOME to the seeded home", file=sys.stderr)
        return 2
    return asyncio.run(profile(args))


if __name__ == "__main__":
    sys.exit(main())
