"""``parallel_map`` / ``parallel_imap_unordered``: Metaflow's helpers to use every core of a task.

Each call of the function runs in a forked process (so closures and lambdas work, unlike
``multiprocessing``), at most ``max_parallel`` at once (default: the number of CPUs); its result
comes back pickled through a pipe. A call that raises fails the whole map with
``MulticoreException`` (its traceback is printed by the process that failed), as in Metaflow.
"""

from __future__ import annotations

import os
import pickle
import selectors
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

A = TypeVar("A")
R = TypeVar("R")


class MulticoreException(Exception):
    """A call of the function failed in its process."""


def _spawn(func: Callable[[A], R], arg: A) -> tuple[int, int]:
    """Fork one call; returns (pid, read end of the pipe its pickled result comes through)."""
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.close(write_fd)
        return pid, read_fd
    os.close(read_fd)
    code = 1
    try:
        data = pickle.dumps(func(arg), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_fd, "wb") as out:
            out.write(data)
        code = 0
    except BaseException:  # noqa: BLE001 - nothing may escape the forked copy of the caller
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)   # never run the caller's cleanup (finally blocks, atexit) in the copy


def parallel_imap_unordered(func: Callable[[A], R], iterable: Iterable[A], max_parallel: int | None = None,
                            dir: str | None = None) -> Iterator[R]:
    """Yield ``func(arg)`` for every arg, in the order the calls finish. ``dir`` is accepted for
    Metaflow's signature (results travel through pipes here, not temporary files)."""
    del dir
    limit = max_parallel or os.cpu_count() or 1
    args = iter(iterable)
    sel = selectors.DefaultSelector()
    buffers: dict[int, bytearray] = {}

    def start(arg: A) -> None:
        pid, fd = _spawn(func, arg)
        buffers[fd] = bytearray()
        sel.register(fd, selectors.EVENT_READ, pid)

    try:
        for arg in islice(args, limit):
            start(arg)
        while buffers:
            for key, _ in sel.select():
                fd, pid = int(key.fd), int(key.data)
                chunk = os.read(fd, 1 << 16)
                if chunk:
                    buffers[fd].extend(chunk)
                    continue
                sel.unregister(fd)
                os.close(fd)
                data = bytes(buffers.pop(fd))
                _, status = os.waitpid(pid, 0)
                if os.waitstatus_to_exitcode(status) != 0:
                    raise MulticoreException("Child failed")
                yield pickle.loads(data)   # pickled by our own forked copy of this process
                for arg in islice(args, 1):
                    start(arg)
    finally:
        for key in list(sel.get_map().values()):
            os.close(int(key.fd))
            _reap(int(key.data))
        sel.close()


def _reap(pid: int) -> None:
    import signal

    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def parallel_map(func: Callable[[A], R], iterable: Iterable[A], max_parallel: int | None = None,
                 dir: str | None = None) -> list[R]:
    """``[func(arg) for arg in iterable]``, the calls run in parallel processes."""

    def indexed(pair: tuple[int, A]) -> tuple[int, R]:
        return pair[0], func(pair[1])

    results: list[tuple[int, Any]] = list(parallel_imap_unordered(indexed, enumerate(iterable),
                                                                   max_parallel=max_parallel, dir=dir))
    return [r for _, r in sorted(results, key=lambda p: p[0])]
