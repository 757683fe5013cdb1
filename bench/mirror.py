"""``python -m bench.mirror``: the mirror of a metaflow-service database, measured.

    python -m bench.mirror backfill --runs 1000000 [--profile lean] [--home DIR] [--reuse]
    python -m bench.mirror live [--samples 40] [--home DIR]
    (either) --markdown docs/benchmarks.md   # write the figures into that page's mirror section

One embedded Postgres (pgserver) under --home holds the source (a metaflow-service database made
by bench.mf_source.generate, or written run by run) and Flowscope's database; nothing else is
touched. Every figure is printed with the machine's load averages (``uptime``) before and after.

* backfill: generate the source (COPY; skipped with --reuse if it is there), then time the mirror
  copying it into a fresh Flowscope database (in this process, as ``flowscope mirror
  --backfill-only`` does): runs/s, rows/s, minutes, peak memory.
* live: ``flowscope serve`` with FLOWSCOPE_MIRROR_SOURCE on a small source, once with Metaflow UI's
  notify triggers and once polling; a writer commits new runs the way the service does while an
  HTTP client polls the run's API URL every 10 ms and Chromium shows the flow's run list. Latency =
  the first API answer holding the run (or the first DOM row, from a MutationObserver) minus the
  time the source commit returned; one clock. Then, idle (no writes, no running runs), the
  statements the mirror sends the source per second: from the source's pg_stat_database
  (transactions in the source database, which nothing but the mirror touches while idle: the
  bench reads the counter from another database) and from the mirror's own count (/api/-/status).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions

from bench.api_report import machine, percentile
from bench.mf_source.generate import Options, generate
from bench.mf_source.schema import create_source, create_triggers
from bench.mf_source.writer import Writer

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SECTION = "## The mirror of a metaflow-service database"


def load() -> str:
    return "load " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _db(server_dsn: str, name: str) -> str:
    params = psycopg2.extensions.parse_dsn(server_dsn)
    params["dbname"] = name
    return str(psycopg2.extensions.make_dsn(**params))


def _admin(dsn: str) -> Any:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    return conn


def _exists(server_dsn: str, name: str) -> bool:
    conn = _admin(server_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return cur.fetchone() is not None
    finally:
        conn.close()


def _recreate(server_dsn: str, name: str) -> str:
    conn = _admin(server_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    return _db(server_dsn, name)


def _flowscope_db(server_dsn: str, name: str) -> str:
    from contract.pg.migrate import ensure_reader_role, migrate

    dsn = _recreate(server_dsn, name)
    conn = _admin(dsn)
    try:
        migrate(conn)
        ensure_reader_role(conn)
    finally:
        conn.close()
    return dsn


def _count(dsn: str, sql: str) -> int:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def _server(home: Path) -> Any:
    import pgserver

    return pgserver.get_server(home / "pg", cleanup_mode=None)  # type: ignore[attr-defined]


# -- backfill -----------------------------------------------------------------------------------

def backfill(args: argparse.Namespace) -> dict[str, Any]:
    from backend.mirror.mirror import Mirror
    from contract.settings import load_settings

    home = Path(args.home)
    server = _server(home)
    sdsn = server.get_uri()
    name = f"mfsource_{args.runs}_{args.profile}"
    out: dict[str, Any] = {"runs": args.runs, "profile": args.profile, "writers": args.writers,
                           "bulk": not args.no_bulk,
                           "load_before": load()}
    if not (args.reuse and _exists(sdsn, name)):
        t0 = time.monotonic()
        src = _recreate(sdsn, name)
        out["generate"] = generate(src, Options(runs=args.runs, profile=args.profile, seed=args.seed,
                                                now_ms=int(time.time() * 1000)), quiet=args.quiet)
        out["generate_s"] = round(time.monotonic() - t0, 1)
    src = _db(sdsn, name)
    source_rows = {t: _count(src, f"SELECT count(*) FROM {t}")
                   for t in ("runs_v3", "steps_v3", "tasks_v3", "metadata_v3", "artifact_v3")}
    dst = _flowscope_db(sdsn, "flowscope_mirror_bench")
    settings = load_settings({}, home=str(home), dsn=dst, mirror_source=src,
                             mirror_batch_runs=args.batch_runs, mirror_backfill_writers=args.writers,
                             mirror_backfill_bulk=not args.no_bulk)
    mirror = Mirror(settings)
    if not args.quiet:
        from backend.mirror.cli import ProgressLine

        mirror.on_progress = ProgressLine(sys.stderr)
    out["load_start"] = load()
    t0, cpu0 = time.monotonic(), time.process_time()
    code = asyncio.run(mirror.run(asyncio.Event(), backfill_only=True))
    seconds = time.monotonic() - t0
    out["mirror_cpu_s"] = round(time.process_time() - cpu0, 1)     # this process, every thread
    out["load_after"] = load()
    assert code == 0, f"the mirror stopped with {code}: {mirror.status.error}"
    copied = {t: _count(dst, f"SELECT count(*) FROM {t}")
              for t in ("runs", "steps", "tasks", "attempts", "metadata", "artifacts")}
    total_source = sum(source_rows.values())
    out.update(source_rows=source_rows, source_total=total_source, flowscope_rows=copied,
               flowscope_total=sum(copied.values()), seconds=round(seconds, 1), minutes=round(seconds / 60, 1),
               runs_per_s=round(args.runs / seconds, 1), source_rows_per_s=round(total_source / seconds),
               minutes_per_million_runs=round(seconds / 60 * 1_000_000 / args.runs, 1),
               peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
               skipped=mirror.status.skipped)
    return out


# -- live latency and idle load ----------------------------------------------------------------------

class ApiWatcher(threading.Thread):
    """Polls one API URL every 10 ms until it answers 200; notes when."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.seen: float | None = None
        self.stop = False

    def run(self) -> None:
        while not self.stop and self.seen is None:
            try:
                with urllib.request.urlopen(self.url, timeout=5) as resp:
                    if resp.status == 200:
                        self.seen = time.time()
                        return
            except (urllib.error.HTTPError, OSError):
                pass
            time.sleep(0.01)


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(port), "--no-ingest"],
                            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/-/status", timeout=2) as resp:
                mirrors = json.loads(resp.read())["data"]["mirrors"]
                if mirrors and mirrors[0]["state"] == "live":
                    return proc
        except (OSError, KeyError, IndexError, ValueError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"flowscope serve with the mirror did not go live:\n{log.read_text()[-2000:]}")
        time.sleep(0.3)


def _xacts(src: str, dbname: str) -> int:
    conn = _admin(src)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (dbname,))
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def live_mode(server_dsn: str, home: Path, triggers: bool, samples: int, idle_s: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from bench.mf_source.schema import Names

    tag = "triggers" if triggers else "polling"
    dbname = f"mfsource_live_{tag}"
    src = _recreate(server_dsn, dbname)
    conn = psycopg2.connect(src)
    try:
        create_source(conn, Names())
        if triggers:
            create_triggers(conn, Names())
    finally:
        conn.close()
    dst = _flowscope_db(server_dsn, f"flowscope_live_{tag}")
    port = random.randint(20000, 40000)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWSCOPE_")}
    env.update(FLOWSCOPE_DSN=dst, FLOWSCOPE_HOME=str(home), FLOWSCOPE_CACHE_DIR="off",
               FLOWSCOPE_MIRROR_SOURCE=src, FLOWSCOPE_MIRROR_LISTEN="on" if triggers else "off",
               PYTHONPATH=str(REPO))
    proc = _serve(env, port, home / f"serve-{tag}.log")
    base = f"http://127.0.0.1:{port}"
    writer = Writer(src)
    api_ms: list[float] = []
    browser_ms: list[float] = []
    out: dict[str, Any] = {"mode": tag, "load_before": load()}
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu",
                                                                   "--disable-background-networking"])
            page = b.new_page(viewport={"width": 1400, "height": 850})
            page.goto(f"{base}/LatencyFlow")
            page.get_by_text("No runs match").wait_for(timeout=30_000)
            page.evaluate("""() => { window.__seen = {};
              new MutationObserver(() => { for (const el of document.querySelectorAll('[data-pathspec]')) {
                const k = el.dataset.pathspec; if (!(k in window.__seen)) window.__seen[k] = Date.now(); } })
              .observe(document.body, {subtree: true, childList: true, attributes: true}); }""")
            for i in range(samples + 2):          # the first two warm up (not counted)
                time.sleep(random.uniform(0.8, 1.6))   # phases of the poll are uniform
                expected = _count(src, "SELECT COALESCE(max(run_number), 0) + 1 FROM runs_v3")
                watcher = ApiWatcher(f"{base}/api/flows/LatencyFlow/runs/{expected}")
                watcher.start()
                number = writer.run("LatencyFlow")
                committed = writer.committed
                assert number == expected
                watcher.join(30)
                watcher.stop = True
                deadline = time.monotonic() + 30
                seen = None
                while seen is None and time.monotonic() < deadline:
                    seen = page.evaluate(f"() => window.__seen['LatencyFlow/{number}'] ?? null")
                    if seen is None:
                        time.sleep(0.02)
                if i < 2:
                    continue
                if watcher.seen is not None:
                    api_ms.append((watcher.seen - committed) * 1000)
                if seen is not None:
                    browser_ms.append(seen - committed * 1000)
            b.close()
        out["load_after_latency"] = load()
        time.sleep(20)      # the last artifacts are expected for 10 s after they stop arriving
        x0, q0 = _xacts(server_dsn, dbname), _mirror_queries(base)
        t0 = time.monotonic()
        time.sleep(idle_s)
        x1, q1 = _xacts(server_dsn, dbname), _mirror_queries(base)
        span = time.monotonic() - t0
        out.update(samples=len(api_ms), api_p50_ms=round(percentile(api_ms, 50)), api_p95_ms=round(percentile(api_ms, 95)),
                   api_max_ms=round(max(api_ms, default=0)), browser_samples=len(browser_ms),
                   browser_p50_ms=round(percentile(browser_ms, 50)), browser_p95_ms=round(percentile(browser_ms, 95)),
                   browser_max_ms=round(max(browser_ms, default=0)),
                   idle_source_xacts_per_s=round((x1 - x0) / span, 2),
                   idle_mirror_queries_per_s=round((q1 - q0) / span, 2) if q0 is not None and q1 is not None else None,
                   idle_seconds=round(span), load_after=load())
    finally:
        proc.terminate()
        proc.wait(30)
    return out


def _mirror_queries(base: str) -> int | None:
    with urllib.request.urlopen(f"{base}/api/-/status", timeout=5) as resp:
        mirrors = json.loads(resp.read())["data"]["mirrors"]
    return int(mirrors[0]["source_queries"]) if mirrors else None


def live(args: argparse.Namespace) -> dict[str, Any]:
    home = Path(args.home)
    server = _server(home)
    return {"modes": [live_mode(server.get_uri(), home, t, args.samples, args.idle) for t in (True, False)]}


# -- report ---------------------------------------------------------------------------------------

def markdown(kind: str, r: dict[str, Any], command: str) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if kind == "backfill":
        s, f = r["source_rows"], r["flowscope_rows"]
        return (f"### Backfill ({when})\n\nCommand: `{command}`. Machine: {machine()}, shared. "
                f"Load averages (1, 5, 15 min): {r['load_start']} at the start, {r['load_after']} at the end.\n\n"
                "| source (profile " + str(r["profile"]) + ") | rows | | Flowscope | rows |\n| --- | ---: | --- | --- | ---: |\n"
                + "".join(f"| {a} | {s[a]:,} | | {b} | {f[b]:,} |\n" for a, b in
                          (("runs_v3", "runs"), ("steps_v3", "steps"), ("tasks_v3", "tasks"), ("metadata_v3", "metadata"),
                           ("artifact_v3", "artifacts")))
                + f"| | | | attempts | {f['attempts']:,} |\n\n"
                f"| figure | value |\n| --- | ---: |\n| runs copied | {r['runs']:,} |\n"
                f"| batches written at once | {r.get('writers', 1)} |\n"
                f"| wall time | {r['seconds']:,} s ({r['minutes']} min) |\n| runs/s | {r['runs_per_s']:,} |\n"
                f"| source rows/s | {r['source_rows_per_s']:,} |\n"
                f"| minutes per 1,000,000 runs at this rate | {r['minutes_per_million_runs']} |\n"
                f"| peak memory of the mirror process | {r['peak_rss_mb']} MiB |\n| rows skipped | {r['skipped']} |\n")
    rows = "".join(
        f"| {m['mode']} | {m['samples']} | {m['api_p50_ms']} | {m['api_p95_ms']} | {m['api_max_ms']} | "
        f"{m['browser_p50_ms']} | {m['browser_p95_ms']} | {m['browser_max_ms']} | {m['idle_source_xacts_per_s']} | "
        f"{m['idle_mirror_queries_per_s']} | {m['load_before']} / {m['load_after']} |\n" for m in r["modes"])
    return (f"### Live: commit → API and → browser, and the source's load while idle ({when})\n\n"
            f"Command: `{command}`. Machine: {machine()}, shared.\n\n"
            "| wake-up | samples | API p50 ms | API p95 ms | API max ms | browser p50 ms | browser p95 ms | "
            "browser max ms | idle: source xacts/s | idle: mirror statements/s | load before / after |\n"
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n" + rows)


def write_markdown(path: str, kind: str, text: str) -> None:
    """Writes the figures into the page's mirror section: the subsection of the same kind is
    replaced where it stands (a new kind goes last); HTML markers that close the section (another
    benchmark's start marker) stay after it."""
    page = Path(path).read_text()
    head = "### Backfill" if kind == "backfill" else "### Live:"
    if SECTION not in page:
        page = page.rstrip() + f"\n\n{SECTION}\n\n"
    start = page.index(SECTION)
    end = page.find("\n## ", start + len(SECTION))
    end = len(page) if end == -1 else end
    body = page[start:end].rstrip("\n")
    markers = re.search(r"(\n<!--[^\n]*-->)+$", body)
    tail = body[markers.start():] if markers else ""
    body = body[:markers.start()] if markers else body
    parts = body.split("\n### ")
    subs = [parts[0].rstrip() + "\n"] + ["### " + x.rstrip() + "\n" for x in parts[1:]]
    at = next((i for i, sub in enumerate(subs) if i and sub.startswith(head)), None)
    if at is None:
        subs.append(text.rstrip() + "\n")
    else:
        subs[at] = text.rstrip() + "\n"
    Path(path).write_text(page[:start] + "\n".join(subs).rstrip() + "\n" + tail + page[end:])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.mirror", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    b = sub.add_parser("backfill")
    b.add_argument("--runs", type=int, default=100_000)
    b.add_argument("--profile", choices=["lean", "full"], default="lean")
    b.add_argument("--seed", type=int, default=42)
    b.add_argument("--batch-runs", type=int, default=200)
    b.add_argument("--writers", type=int, default=2, help="batches written at once (mirror_backfill_writers)")
    b.add_argument("--reuse", action="store_true", help="keep a source generated by an earlier run")
    b.add_argument("--no-bulk", action="store_true",
                   help="replay every metadata and artifact row (mirror_backfill_bulk off), to compare")
    lv = sub.add_parser("live")
    lv.add_argument("--samples", type=int, default=40)
    lv.add_argument("--idle", type=int, default=60, help="seconds of idle measured")
    for sp in (b, lv):
        sp.add_argument("--home", default=None, help="where the embedded Postgres lives (default: a temp dir)")
        sp.add_argument("--markdown", default=None, help="write the figures into this page")
        sp.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    args.home = args.home or tempfile.mkdtemp(prefix="fs-mirror-bench-")
    Path(args.home).mkdir(parents=True, exist_ok=True)
    result = backfill(args) if args.what == "backfill" else live(args)
    print(json.dumps(result, indent=2))
    if args.markdown:
        write_markdown(args.markdown, args.what, markdown(args.what, result,
                                                          "python -m bench.mirror " + " ".join(argv or sys.argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
