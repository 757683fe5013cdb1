"""bench.api's result rows, the printed table and the docs/benchmarks.md 'API' section."""

from __future__ import annotations

import math
import os
import re
import subprocess
import time
from dataclasses import dataclass, field


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of seconds (0.0 for no samples)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


@dataclass
class Result:
    name: str
    kind: str
    target_ms: float
    # concurrency -> (p50, p95, p99, n) in seconds
    stats: dict[int, tuple[float, float, float, int]] = field(default_factory=dict)
    sql_p50: float | None = None
    first: float | None = None
    # how the answers were made (X-Flowscope-Cache: miss, hit, run-hit, coalesced, bypass, "-")
    first_cache: dict[str, int] = field(default_factory=dict)
    cache: dict[int, dict[str, int]] = field(default_factory=dict)

    def ok(self) -> bool:
        return 1 in self.stats and self.stats[1][1] * 1000 < self.target_ms

    def cached(self) -> str:
        """Answers served from the response cache at c1 and c32, e.g. "40/40, 158/160"."""
        parts = []
        for conc in (1, 32):
            seen = self.cache.get(conc, {})
            total = sum(seen.values())
            hits = sum(n for state, n in seen.items() if state in CACHED)
            if total:
                parts.append(f"{hits}/{total}")
        return ", ".join(parts)

    def first_cell(self) -> str:
        ms = f"{(self.first or 0) * 1000:.0f}"
        warm = [s for s in self.first_cache if s in CACHED]
        return f"{ms} ({'/'.join(warm)})" if warm else ms

    def cells(self) -> list[str]:
        out = [self.name, self.first_cell()]
        for conc in (1, 32):
            p50, p95, p99, _n = self.stats.get(conc, (0.0, 0.0, 0.0, 0))
            out += [f"{p50 * 1000:.1f}", f"{p95 * 1000:.1f}", f"{p99 * 1000:.1f}"]
        if self.sql_p50 is not None and 1 in self.stats:
            out += [f"{self.sql_p50 * 1000:.2f}", f"{self.stats[1][0] / max(self.sql_p50, 1e-6):.1f}x"]
        else:
            out += ["", ""]
        out += [self.cached(), f"< {self.target_ms:g}", "yes" if self.ok() else "**no**"]
        return out

    def line(self) -> str:
        return " | ".join(self.cells())


CACHED = ("hit", "run-hit", "coalesced")
HEADER = ["case", "first", "c1 p50", "c1 p95", "c1 p99", "c32 p50", "c32 p95", "c32 p99", "SQL p50", "API/SQL",
          "cached c1, c32", "target p95 (c1)", "ok"]


def table(results: list[Result]) -> str:
    rows = ["| " + " | ".join(HEADER) + " |",
            "| --- | " + " | ".join("---:" for _ in HEADER[1:-3]) + " | ---: | --- | --- |"]
    rows += ["| " + " | ".join(r.cells()) + " |" for r in results]
    return "\n".join(rows)


def machine() -> str:
    cpus = os.cpu_count()
    try:
        mem = subprocess.run(["free", "-g"], capture_output=True, text=True, check=False).stdout.splitlines()[1].split()[1]
    except (OSError, IndexError):
        mem = "?"
    return f"{cpus} CPUs (`nproc`), {mem} GiB RAM (`free -g`)"


def write_section(path: str, results: list[Result], command: str, started: float, label: str) -> None:
    """Replace (or append) the '## API' section, keeping everything else in the file."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    body = (f"## API{(' — ' + label) if label else ''}\n\n"
            f"Written by `bench.api`. Command: `FLOWSCOPE_HOME=/tmp/fs-scale {command}`. Machine: {machine()}, "
            f"shared with other processes. Date: {when}. Times in ms; c1 = one client, c32 = 32 concurrent "
            "clients; first = the case's first request (cold caches, e.g. the timeline index of the run; marked when the response cache answered it); SQL p50 = the handler's statements run directly with psycopg2 (same parameters); cached = answers served by the response cache (X-Flowscope-Cache hit, run-hit or coalesced) out of all, at c1 and c32.\n\n"
            + table(results) + "\n")
    text = "# Benchmarks\n"
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    pattern = re.compile(r"^## API\b.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    text = pattern.sub(lambda _: body + "\n", text, count=1) if pattern.search(text) else text.rstrip() + "\n\n" + body
    with open(path, "w") as f:
        f.write(text)
