"""The API tables of docs/benchmarks.md in one command (run it on a quiet machine).

    FLOWSCOPE_HOME=/path/to/seeded/home python -m bench.api_suite [--markdown docs/benchmarks.md] [--quick]

1. response cache off, one process, with the cold row and the comparison with the issue's
   Metaflow figures;
2. response cache on (the default), one process;
3. response cache off, two processes on the port (FLOWSCOPE_WORKERS=2), the list and run-page
   cases: with table 1, the one- and two-process throughput (c32 req/s).

Each table is written to its own section as soon as it is done, with the load averages.
"""

from __future__ import annotations

import argparse
import sys

from bench import api

LISTS = ["home", "status", "flow =", "user =", "tag =", "time range", "group_by", "run page"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.api_suite", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--markdown", default="docs/benchmarks.md")
    p.add_argument("--quick", action="store_true", help="fewer requests per case (a smoke run)")
    p.add_argument("--port", type=int, default=8811)
    args = p.parse_args(argv)
    n = ["--requests", "10", "--budget", "3"] if args.quick else ["--requests", "60", "--budget", "15"]
    runs = [
        ["--no-response-cache", "--cold", "--reference", "--label", "response cache off (one process)"],
        ["--label", "response cache on (default, one process)"],
        ["--no-response-cache", "--workers", "2", "--label", "response cache off, two processes (--workers 2)",
         *[x for name in LISTS for x in ("--only", name)]],
        ["--no-response-cache", "--no-version-cache", "--label",
         "response cache and run/task JSON caches off (one process)",
         *[x for name in [*LISTS, "huge run: tasks"] for x in ("--only", name)]],
    ]
    worst = 0
    for i, extra in enumerate(runs):
        code = api.main([*n, "--port", str(args.port + i), "--markdown", args.markdown, *extra])
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main())
