"""What each sandbox layer stops on its own (the table in docs/security.md), and all of them together.

Every case runs the real child (backend/sandbox/child.py) in probe mode with one layer, so the
table says what still holds on a host where the other layers are unavailable.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from backend.sandbox.confine import LAYERS
from backend.sandbox.probe import probe
from backend.sandbox.runner import run_child
from backend.sandbox.syscalls import SYSCALLS, machine

POLICY: dict[str, Any] = {"memory_mb": 256, "cpu_s": 10, "scratch_mb": 16, "uid": 64123, "nproc": 48,
                          "max_chars": 1000}
ATTEMPTS = ("read the environment", "read the server's /proc environ", "read a file outside the sandbox",
            "write a file outside scratch", "send a network packet", "fork", "signal the server",
            "allocate twice the memory cap")
B, P = "blocked", "POSSIBLE"
# layer alone -> the result of each attempt above, in order (docs/security.md has this table).
ALONE = {
    "namespaces": (B, B, P, B, B, P, B, P),
    "uid":        (B, B, P, P, P, P, B, P),
    "rlimits":    (B, P, P, P, P, P, P, B),
    "landlock":   (B, B, B, B, P, P, B, P),
    "seccomp":    (B, P, P, B, B, B, B, P),
}


def _run_probe(layers: list[str]) -> dict[str, Any]:
    bait = Path(tempfile.mkdtemp(prefix="flowscope-test-bait-"))
    try:
        bait.chmod(0o755)
        secret = bait / "credentials"
        secret.write_text("secret")
        secret.chmod(0o644)
        open_dir = bait / "open"
        open_dir.mkdir()
        open_dir.chmod(0o777)
        config = dict(POLICY, layers=layers, required=layers, probe={
            "server_pid": os.getpid(), "secret_file": str(secret), "write_dir": str(open_dir),
            "memory_mb": POLICY["memory_mb"]})
        outcome = asyncio.run(run_child(config, b"", 30, 1 << 20))
        assert outcome.result is not None, outcome
        if "report" not in outcome.result:
            pytest.skip(f"layer {layers} unavailable here: {outcome.result.get('error')}")
        assert not (open_dir / "escaped").exists() or outcome.result["attempts"]["write a file outside scratch"] == P
        return outcome.result
    finally:
        shutil.rmtree(bait, ignore_errors=True)


@pytest.mark.parametrize("layer", list(ALONE))
def test_what_one_layer_alone_stops(layer: str) -> None:
    if layer == "uid" and os.geteuid() != 0:
        pytest.skip("the dedicated uid is used only when the backend runs as root")
    result = _run_probe([layer])
    assert list(result["report"]["applied"]) == [layer]
    got = tuple(B if result["attempts"][name].startswith(B) else P for name in ATTEMPTS)
    assert dict(zip(ATTEMPTS, got, strict=True)) == dict(zip(ATTEMPTS, ALONE[layer], strict=True)), \
        result["attempts"]


def test_all_layers_together_block_every_attempt() -> None:
    state = asyncio.run(probe(POLICY, "strict", 30, None))
    if state.error or state.report.get("unavailable"):
        pytest.skip(f"not every layer is available on this host: {state.error or state.report['unavailable']}")
    assert state.layers == LAYERS
    assert state.possible == [] and state.refusal() is None, state.attempts
    assert all(result.startswith(B) for result in state.attempts.values())


def test_a_missing_layer_makes_strict_mode_refuse() -> None:
    state = asyncio.run(probe(dict(POLICY), "strict", 30, None))
    state.attempts["send a network packet"] = P
    refusal = state.refusal()
    assert refusal and "send a network packet" in refusal and "FLOWSCOPE_ARTIFACT_SANDBOX=permissive" in refusal
    state.mode = "permissive"
    assert state.refusal() is None
    state.mode = "off"
    assert "turned off" in (state.refusal() or "")


def test_a_required_layer_that_fails_stops_the_child() -> None:
    # -1 tells setresuid "leave it unchanged": the child must notice it is still root and stop.
    if os.geteuid() != 0:
        pytest.skip("the uid layer needs root")
    config = dict(POLICY, uid=-1, layers=["uid"], required=["uid"])
    outcome = asyncio.run(run_child(config, b"\x80\x04K\x01.", 30, 1 << 20))
    assert outcome.result is not None and outcome.result.get("sandbox_failed")
    assert "uid" in outcome.result["error"]


HEADERS = {"x86_64": Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
           "aarch64": Path("/usr/include/asm-generic/unistd.h")}


@pytest.mark.parametrize("arch", list(SYSCALLS))
def test_syscall_numbers_match_the_kernel_headers(arch: str) -> None:
    header = HEADERS[arch]
    if not header.exists():
        pytest.skip(f"{header} is missing (Debian package linux-libc-dev)")
    text = header.read_text()
    known = {m[0]: int(m[1]) for m in re.findall(r"#define __NR(?:3264)?_(\w+)\s+(\d+)", text)}
    table = SYSCALLS[arch]
    checked = {name: nr for name, nr in table.items() if name in known}
    assert checked == {name: known[name] for name in checked}
    # Only calls newer than the headers may be missing from them.
    assert set(table) - set(known) <= {"fchmodat2"}, set(table) - set(known)


def test_this_machine_has_a_table() -> None:
    if machine() not in SYSCALLS:
        pytest.skip(f"no syscall table for {machine()}: seccomp reports itself unavailable there")
    assert SYSCALLS[machine()]["seccomp"] > 0
