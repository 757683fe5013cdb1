"""Times a 200-way foreach of trivial tasks with this runtime and with pip ``metaflow``.

    .venv/bin/python bench/runtime_vs_metaflow.py [--splits 200] [--max-workers 16] [--no-write]

Both run the same flow file (only the import line differs) from a temporary directory, with the
same --max-workers. Metaflow runs in local mode (local metadata and datastore); this runtime
records into Postgres: FLOWSCOPE_DSN if set, else a private pgserver started here before the
clock starts (Metaflow's local mode needs no server either). Prints a markdown table and writes
it into docs/benchmarks.md between this script's markers.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks.md"
START, END = "<!-- runtime_vs_metaflow:start -->", "<!-- runtime_vs_metaflow:end -->"

FLOW = '''from {module} import FlowSpec, step


class WideForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range({splits}))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.doubled = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.doubled for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)


if __name__ == "__main__":
    WideForeachFlow()
'''


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, check=False, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"benchmark run failed: {' '.join(cmd)}")
    return elapsed


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=int, default=200)
    ap.add_argument("--max-workers", type=int, default=16)
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    args = ap.parse_args()

    base = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSCOPE_", "METAFLOW_"))}
    with tempfile.TemporaryDirectory(prefix="fsbench-") as tmp:
        root = Path(tmp)
        server = None
        dsn = os.environ.get("FLOWSCOPE_DSN")
        if not dsn:
            os.environ.setdefault("XDG_RUNTIME_DIR", str(root))  # quiets platformdirs
            import pgserver

            server = pgserver.get_server(root / "pg", cleanup_mode="delete")
            dsn = server.get_uri()
        ours_env = {**base, "FLOWSCOPE_DSN": dsn, "FLOWSCOPE_HOME": str(root / "home"),
                    "FLOWSCOPE_DATASTORE": str(root / "datastore"), "FLOWSCOPE_USER": "bench",
                    "PYTHONPATH": str(REPO)}
        mf_env = {**base, "METAFLOW_DEFAULT_METADATA": "local", "METAFLOW_DEFAULT_DATASTORE": "local",
                  "METAFLOW_USER": "bench", "USERNAME": "bench", "HOME": str(root / "mfhome")}
        (root / "mfhome").mkdir()
        ours_dir, mf_dir = root / "ours", root / "metaflow"
        ours_dir.mkdir()
        mf_dir.mkdir()
        (ours_dir / "flow.py").write_text(FLOW.format(module="core_runtime", splits=args.splits))
        (mf_dir / "flow.py").write_text(FLOW.format(module="metaflow", splits=args.splits))
        workers = ["--max-workers", str(args.max_workers)]
        # Warm-up run of ours creates the schema, so migrations are not timed.
        _run([sys.executable, "flow.py", "run", *workers], ours_env, ours_dir)
        ours = _run([sys.executable, "flow.py", "run", *workers], ours_env, ours_dir)
        theirs = _run([sys.executable, "flow.py", "run", *workers,
                       "--max-num-splits", str(args.splits + 1)], mf_env, mf_dir)
        if server is not None:
            server.cleanup()

    import metaflow

    table = render_table(args.splits, args.max_workers, ours, theirs, metaflow.__version__)
    table += f"\n\nLoad average when the runs ended: {os.getloadavg()[0]:.1f} (1 min)."
    print(table)
    if not args.no_write:
        write_section(table)
        print(f"written to {DOC.relative_to(REPO)}")


def render_table(splits: int, workers: int, ours: float, theirs: float, mf_version: str) -> str:
    cpus = os.cpu_count() or 0
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return "\n".join([
        "## Runtime vs Metaflow: a wide foreach",
        "",
        (f"A {splits}-way foreach of trivial tasks (start → {splits} × work → join → end, "
         f"{splits + 3} tasks), `--max-workers {workers}`, same flow file, wall time of the "
         "`python flow.py run` command."),
        "",
        "```",
        ".venv/bin/python bench/runtime_vs_metaflow.py",
        "```",
        "",
        (f"Machine: {cpus} CPUs (nproc), {_memory_gib()} memory, {platform.system()} "
         f"{platform.machine()}, Python {platform.python_version()}; {when}."),
        "",
        "| runtime | wall time | tasks/s |",
        "| --- | ---: | ---: |",
        f"| core_runtime (Postgres + local datastore, forked tasks) | {ours:.1f} s | {(splits + 3) / ours:.1f} |",
        f"| metaflow {mf_version} (local metadata + datastore) | {theirs:.1f} s | {(splits + 3) / theirs:.1f} |",
        f"| **ratio** | **{theirs / ours:.1f}× faster** | |",
        "",
        "Metaflow needs `--max-num-splits` above its default of 100 for this flow; the script passes it.",
    ])


def write_section(table: str) -> None:
    section = f"{START}\n{table}\n{END}"
    if DOC.exists():
        text = DOC.read_text()
        if START in text and END in text:
            text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _m: section, text, flags=re.DOTALL)
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
    else:
        text = "# Benchmarks\n\n" + section + "\n"
    DOC.write_text(text)


if __name__ == "__main__":
    main()
