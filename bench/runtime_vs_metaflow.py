"""Times a 200-way foreach of trivial tasks with this runtime and with pip ``metaflow``.

    .venv/bin/python bench/runtime_vs_metaflow.py [--splits 200] [--max-workers 16] [--runs 3] [--no-write]

Both run the same flow file (only the import line differs) from a temporary directory, with the
same --max-workers. Metaflow runs in local mode (local metadata and datastore); this runtime
records into Postgres: FLOWSCOPE_DSN if set, else a private pgserver started here before the
clock starts (Metaflow's local mode needs no server either). Each side gets the same warm-up
(one untimed run: imports compiled, our schema migrated, Metaflow's local store created), then
--runs timed runs, alternating the two sides so a load swing hits both; the load average is read
before each run. Prints a markdown table (min and median of each side) and writes it into
docs/benchmarks.md between this script's markers.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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
    ap.add_argument("--runs", type=int, default=3, help="timed runs per side, after one warm-up each")
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    args = ap.parse_args()
    if args.runs < 3:
        ap.error("--runs must be at least 3 (a minimum and a median need several samples)")

    base = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSCOPE_", "METAFLOW_"))}
    with tempfile.TemporaryDirectory(prefix="fsbench-") as tmp:
        root = Path(tmp)
        server = None
        dsn = os.environ.get("FLOWSCOPE_DSN")
        if not dsn:
            os.environ.setdefault("XDG_RUNTIME_DIR", str(root))  # quiets platformdirs
            import pgserver

            server = pgserver.get_server(root / "pg", cleanup_mode="delete")  # type: ignore[attr-defined]
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
        ours_cmd = [sys.executable, "flow.py", "run", *workers]
        mf_cmd = [sys.executable, "flow.py", "run", *workers, "--max-num-splits", str(args.splits + 1)]
        # The same warm-up for both: one untimed run each.
        _run(ours_cmd, ours_env, ours_dir)
        _run(mf_cmd, mf_env, mf_dir)
        ours: list[Sample] = []
        theirs: list[Sample] = []
        for i in range(args.runs):
            for name, cmd, env, cwd, out in (("core_runtime", ours_cmd, ours_env, ours_dir, ours),
                                             ("metaflow", mf_cmd, mf_env, mf_dir, theirs)):
                load = os.getloadavg()[0]
                out.append(Sample(_run(cmd, env, cwd), load))
                print(f"run {i + 1}/{args.runs} {name}: {out[-1].seconds:.1f} s (load {load:.1f})", flush=True)
        if server is not None:
            server.cleanup()

    import metaflow

    table = render_table(args.splits, args.max_workers, ours, theirs, metaflow.__version__)
    print(table)
    if not args.no_write:
        write_section(table)
        print(f"written to {DOC.relative_to(REPO)}")


@dataclass
class Sample:
    seconds: float
    load: float   # 1-minute load average when the run started


def render_table(splits: int, workers: int, ours: list[Sample], theirs: list[Sample], mf_version: str) -> str:
    cpus = os.cpu_count() or 0
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    tasks = splits + 3

    def stats(samples: list[Sample]) -> tuple[float, float]:
        times = [x.seconds for x in samples]
        return min(times), statistics.median(times)

    (o_min, o_med), (t_min, t_med) = stats(ours), stats(theirs)
    runs = len(ours)

    def cells(samples: list[Sample]) -> str:
        return ", ".join(f"{x.seconds:.1f} s (load {x.load:.1f})" for x in samples)

    return "\n".join([
        "## Runtime vs Metaflow: a wide foreach",
        "",
        (f"A {splits}-way foreach of trivial tasks (start → {splits} × work → join → end, "
         f"{tasks} tasks), `--max-workers {workers}`, same flow file, wall time of the "
         "`python flow.py run` command. Each side: one untimed warm-up run, then "
         f"{runs} timed runs, the two sides alternating."),
        "",
        "```",
        ".venv/bin/python bench/runtime_vs_metaflow.py",
        "```",
        "",
        (f"Machine: {cpus} CPUs (nproc), {_memory_gib()} memory, {platform.system()} "
         f"{platform.machine()}, Python {platform.python_version()}; {when}. Load = the 1-minute "
         "load average when each run started (a shared machine: other jobs slow both sides)."),
        "",
        "| runtime | min | median | tasks/s (median) | runs |",
        "| --- | ---: | ---: | ---: | --- |",
        (f"| core_runtime (Postgres + local datastore, forked tasks) | {o_min:.1f} s | {o_med:.1f} s | "
        f"{tasks / o_med:.1f} | {cells(ours)} |"),
        (f"| metaflow {mf_version} (local metadata + datastore) | {t_min:.1f} s | {t_med:.1f} s | "
        f"{tasks / t_med:.1f} | {cells(theirs)} |"),
        f"| **ratio (metaflow / core_runtime)** | **{t_min / o_min:.1f}×** | **{t_med / o_med:.1f}×** | | |",
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
