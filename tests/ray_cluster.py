"""A real, small Ray cluster on this machine: a head and more nodes, each a ``ray start --block``.

Each node runs in its own session (process group), so stopping a node — or the whole cluster,
always, even when a test fails — signals exactly the processes this helper started. Nodes get
different CPU counts and custom resources so placement is observable; the dashboard, usage
stats and anything else that wants the network are off. Memory sizes are kept small: this
machine is shared.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RAY = Path(sys.executable).with_name("ray")
# Quick node-death detection for the tests (defaults take ~30 s).
SYSTEM_CONFIG = {"health_check_period_ms": 500, "health_check_failure_threshold": 4,
                 "health_check_initial_delay_ms": 0}


def ray_available() -> str | None:
    """None when Ray can be used; else what is missing (for a skip message)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return "the 'ray' package is not installed (pip install -e '.[dev]')"
    if not RAY.exists():
        return f"{RAY} is missing"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Node:
    name: str
    proc: subprocess.Popen[bytes]
    num_cpus: int
    resources: dict[str, float]
    log: Path

    def pids(self) -> list[int]:
        """Every process of this node (its session), found in /proc."""
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == self.proc.pid:      # session id
                out.append(int(entry))
        return out

    def raylet_pid(self) -> int | None:
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    argv0 = fh.read().split(b"\0")[0]
            except OSError:
                continue
            if argv0.endswith(b"/raylet"):
                return pid
        return None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass


@dataclass
class LocalRayCluster:
    env: dict[str, str]
    nodes: list[Node] = field(default_factory=list)
    port: int = 0
    temp_dir: str = ""

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _start(self, name: str, args: list[str], num_cpus: int, resources: dict[str, float],
               memory_mb: int) -> Node:
        log = Path(self.temp_dir) / f"{name}.log"
        cmd = [str(RAY), "start", "--block", "--disable-usage-stats", f"--num-cpus={num_cpus}",
               f"--resources={json.dumps(resources)}", f"--memory={memory_mb * 1024 * 1024}",
               "--object-store-memory=78643200", "--node-ip-address=127.0.0.1", *args]
        with open(log, "wb") as fh:
            proc = subprocess.Popen(cmd, env=self.env, stdout=fh, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        node = Node(name, proc, num_cpus, resources, log)
        self.nodes.append(node)
        return node

    def _start_node(self, name: str, args: list[str], num_cpus: int, resources: dict[str, float],
                    memory_mb: int, tries: int = 3) -> None:
        # `ray start` gives a raylet 30 s (hard-coded) to register; on a loaded shared machine that
        # can run out, so a node that timed out is stopped and started again.
        for attempt in range(tries):
            node = self._start(name, args, num_cpus, resources, memory_mb)
            try:
                self.wait_nodes(len(self.nodes))
                return
            except RuntimeError:
                node.kill()
                node.proc.wait(timeout=30)
                self.nodes.remove(node)
                if attempt == tries - 1:
                    raise
                os.replace(node.log, node.log.with_suffix(f".failed{attempt}.log"))

    def start(self, nodes: list[tuple[int, dict[str, float]]], memory_mb: int = 2048) -> None:
        self.temp_dir = tempfile.mkdtemp(prefix="fsray-", dir="/tmp")   # short: socket paths are limited
        self.port = _free_port()
        head_cpus, head_res = nodes[0]
        self._start_node("head", ["--head", f"--port={self.port}", "--include-dashboard=false",
                                  f"--temp-dir={self.temp_dir}",
                                  f"--system-config={json.dumps(SYSTEM_CONFIG)}"],
                         head_cpus, head_res, memory_mb)
        for i, (cpus, res) in enumerate(nodes[1:], start=1):
            self._start_node(f"node{i}", [f"--address={self.address}"], cpus, res, memory_mb)

    def alive_nodes(self) -> list[dict[str, Any]]:
        """The cluster's live nodes as Ray reports them (asked from a separate process)."""
        code = (f"import json, ray; ray.init(address={self.address!r}, logging_level='ERROR', "
                "log_to_driver=False); print(json.dumps([n for n in ray.nodes() if n['Alive']]))")
        out = subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True, text=True,
                             timeout=120, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"cannot list the nodes of {self.address}: {out.stderr[-2000:]}")
        return list(json.loads(out.stdout.strip().splitlines()[-1]))

    def wait_nodes(self, n: int, timeout: float = 120.0) -> None:
        """Until the last n nodes started say their runtime is up (the log line of ``ray start``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node.proc.poll() is not None:
                    raise RuntimeError(f"ray node {node.name} exited: {node.log.read_text()[-2000:]}")
            if all("Ray runtime started" in node.log.read_text(errors="replace") for node in self.nodes[:n]):
                return
            time.sleep(0.5)
        raise RuntimeError(f"the Ray cluster did not reach {n} live nodes in {timeout:g} s")

    def stop(self) -> None:
        """Stop every node this helper started (workers first), then remove the temp dir."""
        for node in reversed(self.nodes):
            if node.proc.poll() is None:
                node.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for node in reversed(self.nodes):
            try:
                node.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            node.kill()     # whatever of its session is left
            if node.proc.poll() is None:
                node.proc.wait(timeout=10)
        shutil.rmtree(self.temp_dir, ignore_errors=True)
