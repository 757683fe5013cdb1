"""`flowscope watch` against a backend that requires FLOWSCOPE_AUTH_TOKEN: it sends the token from
its own settings as the bearer (like `flowscope summary`), and a refusal (401) is one `error: …`
line with exit status 1 — it used to be a websockets InvalidStatus traceback, token or not."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

TOKEN = "watch-t0ken"


async def _watch(base: str, token: str | None) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWSCOPE_")}
    if token is not None:
        env["FLOWSCOPE_AUTH_TOKEN"] = token
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "backend.cli", "watch", "NoSuchFlow/1", "--url", base, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_watch_sends_the_token_and_reports_a_refusal(aiohttp_client: Any, make_app: Any) -> None:
    client = await aiohttp_client(make_app(auth_token=TOKEN))
    base = str(client.make_url("")).rstrip("/")

    # with the token: connected and subscribed (the server answers the unknown run), still following
    proc = await _watch(base, TOKEN)
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line.decode() == "error: run NoSuchFlow/1 not found\n"
        assert proc.returncode is None
    finally:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()

    for token, hint in ((None, " (set FLOWSCOPE_AUTH_TOKEN to the backend's token)"), ("wrong", "")):
        proc = await _watch(base, token)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert (proc.returncode, out) == (1, b"")
        assert err.decode() == (f"error: the Flowscope backend at {base.replace('http://', 'ws://')}/api/ws "
                                f"refused the connection: HTTP 401{hint}\n")
