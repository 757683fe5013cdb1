"""bench.api's result rows, the printed table and its docs/benchmarks.md sections."""

from __future__ import annotations

import math
import os
import re
import subprocess
import time
from dataclasses import dataclass, field

CONCURRENCY = (1, 8, 32)
# The goals with the response cache off (#19): list and run-page cases.
SQL_RATIO_GOAL = 1.5        # c1 p95 at most this times the raw SQL's c1 p95
C32_P95_GOAL_MS = 30.0
# The concurrencies each kind's p95 target names (docs/benchmarks.md, "Reading these figures"):
# every one must meet it. The run-wide log search is judged one search at a time.
TARGET_AT: dict[str, tuple[int, ...]] = {"search": (1,)}
DEFAULT_TARGET_AT = (1, 32)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of seconds (0.0 for no samples)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


def load_avg(avg: tuple[float, float, float]) -> str:
    """1/5/15-minute load averages (os.getloadavg()) as `uptime` shows them: "2.3 / 3.1 / 4.4"."""
    return " / ".join(f"{x:.1f}" for x in avg)


def load_average() -> str:
    """The 1/5/15-minute load averages now, as `uptime` shows them."""
    try:
        return load_avg(os.getloadavg())
    except OSError:
        return "?"


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
    sql_p95: float | None = None
    cold: float | None = None                 # first request of a fresh backend process
    rate: dict[int, float] = field(default_factory=dict)   # concurrency -> requests/s
    load: str = ""                            # load averages when the row was done

    def target_at(self) -> tuple[int, ...]:
        """The concurrencies this row's target names: c1 and c32, c1 only for the log search."""
        return TARGET_AT.get(self.kind, DEFAULT_TARGET_AT)

    def misses(self) -> list[int]:
        """The named concurrencies whose p95 is not under the target, or that were not measured."""
        return [c for c in self.target_at() if c not in self.stats or self.stats[c][1] * 1000 >= self.target_ms]

    def ok(self) -> bool:
        return not self.misses()

    def ok_cell(self) -> str:
        """The ok column: yes, or **no** with the concurrencies that missed, e.g. "**no** (c32)"."""
        missed = self.misses()
        if not missed:
            return "yes"
        return "**no** (" + ", ".join(f"c{c}" if c in self.stats else f"c{c} not measured" for c in missed) + ")"

    def sql_goal(self) -> str:
        """c1 p95 within SQL_RATIO_GOAL of the raw SQL's c1 p95 ("" without SQL)."""
        if self.sql_p95 is None or 1 not in self.stats:
            return ""
        ratio = self.stats[1][1] / max(self.sql_p95, 1e-6)
        return f"{ratio:.1f}x {'yes' if ratio <= SQL_RATIO_GOAL else '**no**'}"

    def c32_goal(self) -> str:
        if self.kind not in ("list", "detail") or 32 not in self.stats:
            return ""
        return "yes" if self.stats[32][1] * 1000 < C32_P95_GOAL_MS else "**no**"

    def cached(self) -> str:
        """Answers served from the response cache per concurrency, e.g. "40/40, 158/160"."""
        parts = []
        for conc in CONCURRENCY:
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
        out = [self.name, "" if self.cold is None else f"{self.cold * 1000:.0f}", self.first_cell()]
        for conc in CONCURRENCY:
            p50, p95, _p99, _n = self.stats.get(conc, (0.0, 0.0, 0.0, 0))
            out += [f"{p50 * 1000:.1f}", f"{p95 * 1000:.1f}"] if conc in self.stats else ["", ""]
        out.append(f"{self.rate[32]:.0f}" if 32 in self.rate else "")
        out += ["" if self.sql_p50 is None else f"{self.sql_p50 * 1000:.2f}",
                "" if self.sql_p95 is None else f"{self.sql_p95 * 1000:.2f}"]
        out += [self.sql_goal(), self.c32_goal(), self.cached(), f"< {self.target_ms:g}",
                self.ok_cell(), self.load]
        return out

    def line(self) -> str:
        return " | ".join(self.cells())


CACHED = ("hit", "run-hit", "coalesced")
CLIENTS = {"lean": "bench/http_client.py: HTTP/1.1 keep-alive, one connection per client",
           "aiohttp": "aiohttp's ClientSession"}
HEADER = ["case", "cold", "first", "c1 p50", "c1 p95", "c8 p50", "c8 p95", "c32 p50", "c32 p95", "c32 req/s",
          "SQL p50", "SQL p95", f"c1 p95 / SQL p95 ≤ {SQL_RATIO_GOAL:g}x", f"c32 p95 < {C32_P95_GOAL_MS:g}",
          "cached c1, c8, c32", "target p95 (c1, c32; log search: c1)", "ok", "load"]


def table(results: list[Result]) -> str:
    rows = ["| " + " | ".join(HEADER) + " |",
            "| --- | " + " | ".join("---:" for _ in HEADER[1:12]) + " | --- | --- | ---: | --- | --- | --- |"]
    rows += ["| " + " | ".join(r.cells()) + " |" for r in results]
    return "\n".join(rows)


# The (#19) reference: Metaflow's ui_backend_service on this machine, the same data
# (ms: c1 p95, c8 p95, c32 p50). Our case whose name starts with the key is compared with it.
METAFLOW_REFERENCE = {
    "home: newest first": ("newest runs, page of 50", 4.4, 16.7, 39.0),
    "flow = ": ("one flow's runs", 4.9, 13.6, 33.2),
    "user = ": ("one user's runs", 10.3, 18.8, 27.2),
    "tag = team:ml (common)": ("common tag (400k runs)", 42.2, 16.8, 30.4),
    "tag = ": ("mid-frequency tag (3,000 runs)", 44.6, 47.0, 96.5),
    "run page: steps + tasks": ("run page: steps + tasks", 5.1, 30.0, 71.5),
    "status = failed": ("status = failed", 8.6, 35.7, 57.8),
    "status = running": ("status = running", 92.6, 269.0, 620.0),
    "home: page 100 (cursor)": ("deep page 100", 50.7, 125.0, 341.0),
    "group_by = flow": ("grouped by flow (20 groups)", 7878.0, 20240.0, 47146.0),
}


def reference_table(results: list[Result]) -> str:
    """Our c1 p95, c8 p95 and c32 p50 beside the issue's Metaflow figures: how many times faster."""
    rows = ["| request | ours (case) | c1 p95: Metaflow / ours | c8 p95: Metaflow / ours | "
            "c32 p50: Metaflow / ours | ≥ 5x in every cell |", "| --- | --- | --- | --- | --- | --- |"]
    used: set[str] = set()
    for prefix, (label, *theirs) in METAFLOW_REFERENCE.items():
        match = next((r for r in results if r.name.startswith(prefix) and r.name not in used
                      and not (prefix == "tag = " and "common" in r.name)), None)
        if match is None or not all(c in match.stats for c in CONCURRENCY):
            continue
        used.add(match.name)
        ours = [match.stats[1][1], match.stats[8][1], match.stats[32][0]]
        cells, all_ok = [], True
        for mine, ref in zip(ours, theirs):
            ratio = ref / max(mine * 1000, 1e-3)
            all_ok &= ratio >= 5
            cells.append(f"{ref:g} / {mine * 1000:.1f} = {ratio:.1f}x")
        rows.append(f"| {label} | {match.name} | " + " | ".join(cells) + f" | {'yes' if all_ok else '**no**'} |")
    return "\n".join(rows)


def machine() -> str:
    cpus = os.cpu_count()
    try:
        mem = subprocess.run(["free", "-g"], capture_output=True, text=True, check=False).stdout.splitlines()[1].split()[1]
    except (OSError, IndexError):
        mem = "?"
    return f"{cpus} CPUs (`nproc`), {mem} GiB RAM (`free -g`)"


def write_section(path: str, results: list[Result], command: str, started: float, label: str,
                  load_start: str = "", load_end: str = "", reference: bool = False,
                  client: str = "lean", version_cache: bool = True, warmup: int = 0) -> None:
    """Replace the '## API — <label>' section (or append it), keeping everything else in the file."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    heading = f"## API{(' — ' + label) if label else ''}"
    loads = (f" Load average (1/5/15 min, `uptime`): {load_start} at the start, {load_end} at the end; "
             "each row's own is in its last column." if load_start else "")
    body = (f"{heading}\n\n"
            f"Written by `bench.api`. Command: `{command}`. Machine: {machine()}, "
            f"shared with other processes.{loads} Date: {when}. Times in ms; c1/c8/c32 = 1, 8, 32 concurrent "
            f"clients ({CLIENTS[client]}, in the benchmark's process, on the same 2 cores); cold = the case's first request "
            "to a freshly started backend process (after one /api/flows probe); first = the case's first request "
            "in the measuring process (marked when the response cache answered it); c32 req/s = answers per "
            "second at c32; SQL p50/p95 = the handler's statements run directly on one psycopg2 connection (same "
            "parameters, plain tuples), alternating with the c1 requests; "
            + (f"each case warmed on both sides before it is timed ({warmup} untimed requests at the highest "
               "concurrency, reaching every pooled connection, and 5 runs of its SQL), so c1/c8/c32 are a process "
               "in use and a fresh one's costs are in cold and first; " if warmup else
               "no warm-up but the first request; ")
            + ("run and task JSON held by version (FLOWSCOPE_VERSION_CACHE, the default): in the backend, and in the "
               "benchmark's process for the SQL column, so a list or task page's statement selects keys and versions "
               "(and running rows' JSON) and the rest is built once, then held; "
               if version_cache else
               "FLOWSCOPE_VERSION_CACHE=false: every page builds every row's JSON in its statement; ")
            + "cached = answers served by the response cache (X-Flowscope-Cache hit, "
            "run-hit or coalesced) out of all.\n\n" + table(results) + "\n")
    if reference:
        body += ("\nAgainst the issue's figures for Metaflow's ui_backend_service (#19; measured there on this "
                 "machine, the same 1M runs, not re-run here: that service is not a package):\n\n"
                 + reference_table(results) + "\n")
    text = "# Benchmarks\n"
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    text = pattern.sub(lambda _: body + "\n", text, count=1) if pattern.search(text) else text.rstrip() + "\n\n" + body
    with open(path, "w") as f:
        f.write(text)
