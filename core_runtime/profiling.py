"""``profile``: Metaflow's context manager that times a block of a step.

``with profile("load"):`` prints ``PROFILE: load starting`` and ``PROFILE: load completed in
123ms``; ``with profile("load", stats_dict=d):`` prints nothing and adds the milliseconds to
``d["load"]``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def profile(label: str, stats_dict: dict[str, int] | None = None) -> Iterator[None]:
    if stats_dict is None:
        print(f"PROFILE: {label} starting")
    started = time.monotonic()
    yield          # as in Metaflow, a block that raises is neither reported nor counted
    took = int((time.monotonic() - started) * 1000)
    if stats_dict is None:
        print(f"PROFILE: {label} completed in {took}ms")
    else:
        stats_dict[label] = stats_dict.get(label, 0) + took
