"""bench.mirror_profile's floor modes (docs/benchmarks.md, "The floor"): the real backfill code with
parts taken away. On a tiny generated source, each mode copies (or reads) every run and reports
its figures; ``--no-write`` builds Flowscope's statements and sends none, ``--read-only`` reads
what the full copy reads and replays nothing."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.mirror_profile import result

RUNS = 60
# What still reaches Flowscope's database with the copy cut off: each connection's set-up (aiopg's
# hstore lookup, the session setting) and the state saved once when the mirror stops.
SETUP = {"fs: SET synchronous_commit = off", "fs: SELECT t.oid, typarray FROM pg_type t JOIN pg_name"}


def _only_setup_sent(r: dict[str, Any]) -> None:
    sent = dict(r["flowscope_statements_sent"])
    assert sent.pop("fs.checkpoint.SAVE_DETAIL", 0) <= 1
    assert set(sent) <= SETUP, sent


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    # The bench's own embedded Postgres, as the bench runs it; a short path (unix socket length).
    path = Path(tempfile.mkdtemp(prefix="fsfloor-"))
    yield path
    import pgserver

    server = pgserver.get_server(path / "pg", cleanup_mode=None)  # type: ignore[attr-defined]
    server.cleanup_mode = "delete"
    server.cleanup()
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def modes(home: Path) -> dict[str, dict[str, Any]]:
    base = ["--runs", str(RUNS), "--home", str(home), "--batch-runs", "20"]
    return {"full": result(base), "no-write": result([*base, "--no-write"]),
            "read-only": result([*base, "--read-only"])}


def _figures_are_reported(r: dict[str, Any]) -> None:
    assert r["runs"] == RUNS
    assert r["wall_s"] > 0 and r["runs_per_s"] == pytest.approx(RUNS / r["wall_s"], rel=0.01)
    assert r["mirror_cpu_s"] > 0 and r["postgres_cpu_s"] > 0
    assert r["source_statements_ms_per_run"] > 0
    assert r["load_start"].startswith("load ") and r["utc_start"]


def test_the_full_copy_writes_every_run(modes: dict[str, dict[str, Any]]) -> None:
    full = modes["full"]
    _figures_are_reported(full)
    assert full["mode"] == "full" and full["flowscope_runs"] == RUNS
    assert full["flowscope_statements_dropped"] == {}
    assert full["flowscope_statements_ms_per_run"] > 0 and full["replay_s"] > 0


def test_no_write_builds_flowscopes_statements_and_sends_none(modes: dict[str, dict[str, Any]]) -> None:
    full, nw = modes["full"], modes["no-write"]
    _figures_are_reported(nw)
    assert nw["flowscope_runs"] == 0
    _only_setup_sent(nw)
    dropped = nw["flowscope_statements_dropped"]
    # Every batch (3 of 20 runs) built its runs, tasks, attempts and bulk INSERTs, as the full copy sent them.
    for label in ("fs.INSERT_RUNS_COUNTED", "fs.INSERT_TASKS_NEW", "fs.INSERT_ATTEMPTS_NEW",
                  "fs.bulk.INSERT_METADATA", "fs.checkpoint.RECORD_RUNS"):
        assert dropped[label] == full["flowscope_statements_sent"][label] == 3, label
    # Artifacts: replayed until the enricher knows the datastore root unreadable, then bulk; which
    # batches go which way depends on when its probe answers (the writes' timing), not on the mode.
    assert dropped.get("fs.INSERT_ARTIFACTS", 0) + dropped.get("fs.bulk.INSERT_ARTIFACTS", 0) == 3
    assert nw["replay_s"] > 0
    # The source read the same.
    assert nw["source_statements"] == full["source_statements"]


def test_read_only_reads_what_the_copy_reads_and_nothing_else(modes: dict[str, dict[str, Any]]) -> None:
    full, ro = modes["full"], modes["read-only"]
    _figures_are_reported(ro)
    assert ro["flowscope_runs"] == 0 and ro["replay_s"] == 0
    _only_setup_sent(ro)
    assert not [k for k in ro["flowscope_statements_dropped"] if "RUNS" in k or "TASKS" in k or "bulk" in k]
    assert ro["source_statements"] == full["source_statements"]
    assert ro["source_statements"]["source.metadata_batch"] == 3
    # The reads took the copy's arguments: the generated source's datastore root, probed, is unreadable.
    assert ro["roots_unreadable"] == full["roots_unreadable"] != []
