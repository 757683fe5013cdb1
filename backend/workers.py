"""The other processes of ``flowscope serve --workers N``: N-1 more UI backends on the same port.

Each is ``python -m backend.cli serve --reuse-port --no-ingest`` (which starts no workers of its
own) without the mirror, started once this process listens; the kernel spreads new connections over all the
listening processes (SO_REUSEPORT). Nothing is shared between them: each has its reader pool,
its LISTEN connection (so its own live feed and response-cache generation) and its caches, so a
websocket client may land on any of them and resubscribes with ``since`` as it would on another
replica (docs/deploy.md). A worker that exits is started again (at most once per 5 s); stopping
this process stops them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time

from contract.settings import Settings, env_name

RESTART_EVERY_S = 5.0
# Set for the workers: the pid of the process that started them. A worker whose parent is gone
# (killed without a chance to stop them) stops itself instead of serving on as an orphan.
PARENT_ENV = "FLOWSCOPE_WORKER_PARENT"


async def exit_with_parent(stop: asyncio.Event) -> None:
    """In a worker: set ``stop`` once the process that started it has gone."""
    parent = int(os.environ.get(PARENT_ENV) or 0)
    if not parent:
        return
    while True:   # polled: no event tells a process that its parent died (short of prctl)
        if os.getppid() != parent:
            break
        await asyncio.sleep(1.0)
    sys.stderr.write(f"flowscope: worker {os.getpid()}: the serving process {parent} is gone; stopping\n")
    stop.set()


class Workers:
    def __init__(self, settings: Settings) -> None:
        self.count = settings.workers - 1
        self.env = dict(os.environ)
        self.env.update({env_name("workers"): str(settings.workers), env_name("host"): settings.host,
                         env_name("port"): str(settings.port), env_name("mirror_source"): "",
                         PARENT_ENV: str(os.getpid())})
        self.procs: list[subprocess.Popen[bytes]] = []
        self._watch: asyncio.Task[None] | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--reuse-port", "--no-ingest"],
                                env=self.env, stdout=subprocess.DEVNULL)

    async def start(self) -> None:
        self.procs = [self._spawn() for _ in range(self.count)]
        self._watch = asyncio.create_task(self._restart_exited(), name="workers")

    async def _restart_exited(self) -> None:
        started = [time.monotonic()] * len(self.procs)
        while True:
            await asyncio.sleep(1.0)
            for i, proc in enumerate(self.procs):
                code = proc.poll()
                if code is None or time.monotonic() - started[i] < RESTART_EVERY_S:
                    continue
                sys.stderr.write(f"flowscope: worker {proc.pid} exited ({code}); starting another\n")
                self.procs[i], started[i] = self._spawn(), time.monotonic()

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
            if proc.poll() is None:
                proc.kill()
                proc.wait()
