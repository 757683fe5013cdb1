"""The Ray executor: each attempt runs as the usual task process on a node of a Ray cluster.

The driver (the scheduler) stays where it was: it does every Postgres write, heartbeats, retries
and timeouts. Per attempt it submits one streaming Ray task (``ray_worker.run_attempt``) with the
step's resource request; a thread per attempt copies what the task streams back into pipes, so
the scheduler's selector reads remote output exactly like a local task's.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
import socket
import threading
import time
from typing import Any

from core_runtime.compute import ComputeRequest
from core_runtime.scheduler.executor import AttemptEnd, AttemptSpec, Placement
from core_runtime.scheduler.plan import ChildResult

NODE_DEATH_WAIT = 30.0        # how long a failed attempt waits for Ray to say whether its node died
PROBE_TIMEOUT = 180.0         # first use of a node installs the runtime environment
GONE_AFTER_FAILED_CHECKS = 2  # consecutive heartbeat ticks without the cluster's GCS
MB = 1024 * 1024


class RayExecutorError(RuntimeError):
    """The Ray cluster cannot take the run or a request; the message says why."""


def _short(node_id: str | None) -> str:
    return (node_id or "?")[:12]


def _exit_text(code: int) -> tuple[int, str]:
    if code < 0:
        import signal

        try:
            return code, f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return code, f"killed by signal {-code}"
    return code, f"exited with code {code}"


def _check_reachable(address: str) -> None:
    """Fail fast on a head that does not answer: ray.init() retries an unreachable GCS for minutes."""
    if address in ("auto", "local") or "://" in address:
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=5.0):
            return
    except ValueError:
        raise RayExecutorError(f"FLOWSCOPE_RAY_ADDRESS={address!r}: expected HOST:PORT of the cluster's head "
                               "(or 'auto' on a node of the cluster)") from None
    except OSError as exc:
        raise RayExecutorError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}; is its "
                               "head running (ray start --head) and the port open from here?") from None


class RayAttempt:
    """One attempt on the cluster, observed through pipes fed by a pump thread."""

    def __init__(self, executor: RayExecutor, gen: Any, key: int) -> None:
        self.executor = executor
        self.gen = gen
        self.key = key
        self.pid: int | None = None
        self.started = time.monotonic()
        self.stdout_fd, self._out_w = os.pipe()
        self.stderr_fd, self._err_w = os.pipe()
        self.event_fd, self._ev_w = os.pipe()
        # No live card versions from a remote task (it has no pipe to this runner): its cards
        # appear when the attempt ends.
        self.events_fd: int | None = None
        for fd in (self.stdout_fd, self.stderr_fd, self.event_fd):
            os.set_blocking(fd, False)
        self._placement: Placement | None = None
        self._node: dict[str, Any] | None = None
        self._end: AttemptEnd | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._pump, name=f"ray-attempt-{key}", daemon=True)
        self._thread.start()

    # ---- pump thread -----------------------------------------------------------------------
    def _pump(self) -> None:
        import ray

        try:
            for ref in self.gen:
                kind, payload = ray.get(ref)
                if kind == "placed":
                    self._node = payload
                    self.pid = int(payload["pid"])
                    self._placement = Placement("ray", payload["host"], payload["node_id"], self.pid,
                                                payload["resources"])
                    self._signal(b"p")
                elif kind == "stdout":
                    self._write(self._out_w, payload)
                elif kind == "stderr":
                    self._write(self._err_w, payload)
                elif kind == "end":
                    code, how = _exit_text(int(payload["returncode"]))
                    text = payload["result"]
                    self._end = AttemptEnd(code, how, ChildResult(**json.loads(text)) if text else None)
        except Exception as exc:  # noqa: BLE001 - every way a remote attempt can fail ends it
            self._end = self.executor.explain_failure(exc, self._node, self._cancelled)
        finally:
            if self._end is None:
                self._end = AttemptEnd(None, "ended without a result", None,
                                       lost="the Ray task ended without reporting how the task process ended")
            for fd in (self._out_w, self._err_w):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._signal(b"x")

    @staticmethod
    def _write(fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                n = os.write(fd, view)
            except BrokenPipeError:
                return          # the scheduler stopped reading (run torn down)
            view = view[n:]

    def _signal(self, what: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(self._ev_w, what)

    # ---- TaskAttempt -----------------------------------------------------------------------
    def on_event(self) -> bool:
        try:
            data = os.read(self.event_fd, 64)
        except BlockingIOError:
            data = b""
        return b"x" in data or (not self._thread.is_alive() and self._end is not None)

    def take_placement(self) -> Placement | None:
        out, self._placement = self._placement, None
        return out

    def collect(self, block: bool) -> AttemptEnd | None:
        if block:
            self._thread.join(timeout=30.0)
        if self._thread.is_alive():
            if not block:
                return None
            return AttemptEnd(None, "did not stop", None, lost="the Ray task did not stop within 30 s")
        return self._end

    def close(self) -> None:
        for fd in (self.event_fd, self._ev_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def kill(self) -> None:
        import ray

        self._cancelled = True
        with contextlib.suppress(Exception):
            ray.cancel(self.gen, force=False)


class RayExecutor:
    name = "ray"

    def __init__(self, address: str, settings: Any, flow_file: str) -> None:
        import logging

        try:
            import ray
        except ImportError:
            raise RayExecutorError(f"FLOWSCOPE_RAY_ADDRESS={address!r} is set but the 'ray' package is not "
                                   "installed here: pip install ray") from None

        import contract
        import core_runtime
        from core_runtime.scheduler.code_package import build_package
        from core_runtime.scheduler.ray_worker import probe_datastore, run_attempt

        self.address = address
        self.settings = settings
        _check_reachable(address)
        # The runtime and the contract it stands on go to every node: nodes run the driver's version.
        shipped = [os.path.dirname(os.path.abspath(m.__file__ or "")) for m in (core_runtime, contract)]
        try:
            # log_to_driver=False: task output comes back through our own stream, once.
            ray.init(address=address, namespace="flowscope", log_to_driver=False,
                     logging_level=logging.WARNING, runtime_env={"py_modules": shipped})
        except Exception as exc:  # noqa: BLE001 - any failure to connect is one clear message
            raise RayExecutorError(f"cannot connect to the Ray cluster at {address!r}: "
                                   f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}") from None
        self.gcs = ray.get_runtime_context().gcs_address
        package, self.sha, self.flow_rel = build_package(flow_file)
        self.package_ref = ray.put(package)
        self._run_attempt = ray.remote(run_attempt)
        self._probe = ray.remote(probe_datastore)
        self._keys = itertools.count(1)
        self._nodes_at = 0.0
        self._nodes: list[dict[str, Any]] = []
        self._failed_checks = 0

    # ---- before the run --------------------------------------------------------------------
    def check_datastore(self) -> None:
        """Every live node must read what the driver writes, else tasks could not share artifacts."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        from contract.datastore import datastore_root, open_datastore
        from core_runtime.scheduler.remote_task import remote_settings

        nonce = secrets.token_hex(8)
        key = f"_flowscope/probe/{nonce}"
        open_datastore(self.settings).put(key, nonce.encode())
        shipped = remote_settings(self.settings)
        refs = {}
        for node in self.nodes(refresh=True):
            strategy = NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
            refs[node["NodeID"]] = (node, self._probe.options(
                num_cpus=0, max_retries=0, scheduling_strategy=strategy).remote(
                shipped, key, nonce.encode()))
        root = datastore_root(self.settings)
        for node_id, (node, ref) in refs.items():
            where = f"Ray node {node['NodeManagerHostname']} ({_short(node_id)})"
            ready, _ = ray.wait([ref], timeout=PROBE_TIMEOUT)
            try:
                if not ready:
                    raise RayExecutorError(f"{where} did not answer a datastore check within {PROBE_TIMEOUT:g} s")
                out = ray.get(ref)
            except (ray.exceptions.RayError, RayExecutorError):
                # A node listed alive a moment ago may have died since (its death is noticed after
                # missed heartbeats): it will run nothing of this run, so it needs no check.
                if all(n["NodeID"] != node_id for n in self.nodes(refresh=True)):
                    continue
                raise
            if not out["ok"]:
                raise RayExecutorError(
                    f"the datastore {root} is not shared with {where}: {out['error']}. Every node must "
                    "see the same datastore: use s3://bucket/prefix, or a directory every node mounts "
                    "at the same path")

    # ---- per attempt -----------------------------------------------------------------------
    def nodes(self, refresh: bool = False) -> list[dict[str, Any]]:
        import ray

        if refresh or time.monotonic() - self._nodes_at > 5.0:
            list_nodes: Any = ray.nodes     # untyped in Ray
            self._nodes = [n for n in list_nodes() if n.get("Alive")]
            self._nodes_at = time.monotonic()
        return self._nodes

    def check_fits(self, request: ComputeRequest) -> None:
        need = {"CPU": request.cpu, "GPU": request.gpu,
                "memory": request.memory_mb * MB if request.declared else 0.0}
        nodes = self.nodes()
        if not nodes:
            raise RayExecutorError(f"the Ray cluster at {self.address} has no live node")
        for node in nodes:
            have = node.get("Resources", {})
            if all(float(have.get(k, 0.0)) >= v for k, v in need.items() if v):
                return
        largest = max(nodes, key=lambda n: (n["Resources"].get("CPU", 0), n["Resources"].get("memory", 0)))
        have = largest["Resources"]
        raise RayExecutorError(
            f"no node of the Ray cluster at {self.address} can take the request {request.describe()}: "
            f"the largest node, {largest['NodeManagerHostname']} ({_short(largest['NodeID'])}), has "
            f"cpu={have.get('CPU', 0):g}, memory={have.get('memory', 0) / MB:.0f} MB, gpu={have.get('GPU', 0):g}")

    def launch(self, spec: AttemptSpec) -> RayAttempt:
        from core_runtime.scheduler.remote_task import encode_spec

        request = spec.request
        self.check_fits(request)
        # max_retries=0: a retry is @retry's decision, recorded as a new attempt, never Ray's.
        options: dict[str, Any] = {"num_cpus": request.cpu, "num_gpus": request.gpu,
                                   "num_returns": "streaming", "max_retries": 0}
        if request.declared:
            options["memory"] = int(request.memory_mb * MB)
        gen = self._run_attempt.options(**options).remote(self.package_ref, self.sha,
                                                           encode_spec(spec, self.flow_rel))
        return RayAttempt(self, gen, next(self._keys))

    def explain_failure(self, exc: BaseException, node: dict[str, Any] | None, cancelled: bool) -> AttemptEnd:
        """An attempt's Ray task raised instead of reporting an exit: killed, node lost, or cluster gone."""
        from ray.exceptions import NodeDiedError, TaskCancelledError

        if cancelled or isinstance(exc, TaskCancelledError):
            return AttemptEnd(-9, "killed by SIGKILL", None)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        gone = self._cluster_gone()
        if gone:
            return AttemptEnd(None, "cluster gone", None, lost=gone)
        if node is not None:
            deadline = time.monotonic() + (0 if isinstance(exc, NodeDiedError) else NODE_DEATH_WAIT)
            while True:
                alive = {n["NodeID"] for n in self.nodes(refresh=True)}
                if node["node_id"] not in alive or isinstance(exc, NodeDiedError):
                    return AttemptEnd(None, "node lost", None,
                                      lost=f"node lost: Ray node {node['host']} ({_short(node['node_id'])}) "
                                           f"died while the task ran")
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.5)
        return AttemptEnd(None, "Ray task failed", None, lost=f"Ray task failed: {type(exc).__name__}: {first}")

    # ---- the cluster -----------------------------------------------------------------------
    def _cluster_gone(self) -> str | None:
        host, _, port = str(self.gcs).rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=2.0):
                return None
        except (OSError, ValueError) as exc:
            return (f"the Ray cluster at {self.address} went away (its GCS at {self.gcs} does not answer: "
                    f"{exc}); tasks running there are lost")

    def health(self) -> str | None:
        gone = self._cluster_gone()
        self._failed_checks = self._failed_checks + 1 if gone else 0
        return gone if self._failed_checks >= GONE_AFTER_FAILED_CHECKS else None

    def close(self) -> None:
        import ray

        # ray.shutdown() can block on a cluster that went away; the run's result is already recorded.
        t = threading.Thread(target=ray.shutdown, daemon=True)
        t.start()
        t.join(timeout=10.0)
