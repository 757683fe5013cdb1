"""The renderer's side of the sandbox: deadlines, bounded output, refusals, the status page."""

from __future__ import annotations

import asyncio
import pickle
import subprocess
import time
from typing import Any

import pytest

from backend.cache.artifact_worker import ArtifactRenderer
from backend.cache.lru import LruCache
from backend.errors import ApiError


def _renderer(**kw: Any) -> ArtifactRenderer:
    args: dict[str, Any] = {"timeout": 3.0, "memory_mb": 256, "workers": 2, "cache": LruCache("t", 10**7)}
    return ArtifactRenderer(**{**args, **kw})


class _Runs:
    def __init__(self, source: str) -> None:
        self.source = source

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, (self.source,))


def _code(source: str) -> bytes:
    """A pickle that runs ``source`` when loaded (as any class's __reduce__ can ask for)."""
    return pickle.dumps(_Runs(source), protocol=4)


def _children() -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if "backend.sandbox.child" in line]


async def test_a_sleeping_pickle_is_killed_at_the_deadline() -> None:
    renderer = _renderer(timeout=1.5)
    await renderer.start()
    began = time.monotonic()
    with pytest.raises(ApiError) as err:
        await renderer.render("s1", _code("import time\ntime.sleep(60)"), "artifact 'nap'")
    assert err.value.status == 504 and "1.5 s" in err.value.message
    assert time.monotonic() - began < 30   # the pickle sleeps 60 s: it was stopped, not waited for
    assert renderer.stats()["timeouts"] == 1
    await asyncio.sleep(0.2)
    assert _children() == []


async def test_output_is_bounded() -> None:
    renderer = _renderer()
    await renderer.start()
    flood = _code("import os\nwhile True: os.write(1, b'x' * 65536)")
    out = await renderer.render("s2", flood, "artifact 'flood'")
    assert "wrote more than" in out["error"]


async def test_plain_values_never_start_a_process() -> None:
    renderer = _renderer()
    await renderer.start()
    out = await renderer.render("s3", pickle.dumps({"a": [1, 2]}, protocol=4), "artifact 'a'")
    assert out == {"type": "dict", "text": "{'a': [1, 2]}", "truncated": False, "json": {"a": [1, 2]},
                   "decoder": "safe"}
    assert renderer.stats()["renders"] == 0 and renderer.stats()["safe_decodes"] == 1


async def test_strict_mode_with_a_hole_refuses_to_unpickle() -> None:
    renderer = _renderer()
    await renderer.start()
    renderer.sandbox.attempts["send a network packet"] = "POSSIBLE"
    out = await renderer.render("s4", _code("x = 1"), "artifact 'x'")
    assert "not rendered" in out["error"] and "send a network packet" in out["error"]
    assert renderer.stats()["refused"] == 1 and renderer.stats()["renders"] == 0
    # ... while plain values still render.
    assert (await renderer.render("s5", pickle.dumps([1], protocol=4), "artifact 'y'"))["json"] == [1]


async def test_off_mode_never_unpickles() -> None:
    renderer = _renderer(mode="off")
    state = await renderer.start()
    assert state.attempts == {}   # no probe either
    out = await renderer.render("s6", _code("x = 1"), "artifact 'x'")
    assert "turned off" in out["error"]


async def test_status_shows_the_sandbox(aiohttp_client: Any, make_secure_app: Any) -> None:
    client = await aiohttp_client(make_secure_app())
    body = await (await client.get("/api/-/status")).json()
    sandbox = body["data"]["artifact_worker"]["sandbox"]
    assert sandbox["mode"] == "strict" and set(sandbox["attempts"]) >= {"fork", "send a network packet"}
    assert sandbox["layers"] == list(sandbox["applied"])
    settings = (await (await client.get("/api/-/settings")).json())["data"]
    assert settings["FLOWSCOPE_ARTIFACT_SANDBOX"] == "strict"


async def test_without_the_probe_nothing_is_unpickled() -> None:
    renderer = _renderer()   # start() never called: no layer is known to work
    out = await renderer.render("s7", _code("x = 1"), "artifact 'x'")
    assert "not been probed" in out["error"] and renderer.stats()["renders"] == 0
