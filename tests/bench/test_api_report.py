"""bench.api's numbers and its docs section: percentiles by nearest rank, one section replaced in place."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bench.api_report import Result, load_avg, percentile, reference_table, table, write_section


def test_percentile_nearest_rank() -> None:
    values = [i / 1000 for i in range(1, 101)]          # 1..100 ms
    assert percentile(values, 50) == 0.050 and percentile(values, 95) == 0.095 and percentile(values, 99) == 0.099
    assert percentile([0.2], 99) == 0.2 and percentile([], 50) == 0.0


def test_table_marks_the_goals_and_the_sql_ratio() -> None:
    fast = Result("home", "list", 50.0, {1: (0.004, 0.006, 0.007, 40), 8: (0.005, 0.008, 0.009, 80),
                                         32: (0.01, 0.02, 0.03, 160)},
                  sql_p50=0.002, sql_p95=0.005, first=0.01, cold=0.05, rate={32: 1600.0}, load="0.5 / 0.6 / 0.7")
    slow = Result("search", "search", 1000.0, {1: (2.0, 3.0, 3.5, 5)})
    over = Result("tag", "list", 50.0, {1: (0.004, 0.006, 0.007, 40), 32: (0.03, 0.04, 0.05, 160)}, sql_p95=0.002)
    text = table([fast, slow, over])
    assert ("| home | 50 | 10 | 4.0 | 6.0 | 5.0 | 8.0 | 10.0 | 20.0 | 1600 | 2.00 | 5.00 | 1.2x yes | yes |"
            "  | < 50 | yes | 0.5 / 0.6 / 0.7 |") in text
    assert text.splitlines()[3].endswith("| < 1000 | **no** (c1) |  |")
    assert "| 3.0x **no** | **no** |" in text.splitlines()[4]


def test_table_says_what_the_response_cache_answered() -> None:
    row = Result("home", "list", 50.0, {1: (0.001, 0.002, 0.002, 40), 32: (0.01, 0.02, 0.03, 160)}, first=0.01,
                 first_cache={"miss": 1}, cache={1: {"hit": 40}, 32: {"hit": 150, "coalesced": 8, "miss": 2}})
    warm = Result("run", "detail", 50.0, {1: (0.001, 0.002, 0.002, 40), 32: (0.01, 0.02, 0.03, 160)},
                  first=0.002, first_cache={"run-hit": 1}, cache={1: {"-": 40}})
    text = table([row, warm])
    assert "| home |  | 10 | 1.0 |" in text and "| 40/40, 158/160 | < 50 | yes |" in text
    assert "| run |  | 2 (run-hit) |" in text and "| 0/40 | < 50 | yes |" in text


def test_ok_judges_every_concurrency_the_target_names() -> None:
    c1_fast = (0.001, 0.004, 0.005, 60)
    # A list fast at one client but over its 50 ms target at 32 (the "flow = ReportFlow" row: c32 p95 127.4 ms).
    slow_at_32 = Result("flow = ReportFlow", "list", 50.0, {1: c1_fast, 32: (0.029, 0.1274, 0.2, 240)})
    assert not slow_at_32.ok() and slow_at_32.misses() == [32]
    assert "| < 50 | **no** (c32) |" in table([slow_at_32])
    # Details and timelines are judged at c1 and c32 too; exactly at the target is not under it.
    for kind, target in (("detail", 50.0), ("timeline", 150.0), ("log", 50.0)):
        at_target = Result("r", kind, target, {1: c1_fast, 32: (0.01, target / 1000, 0.2, 240)})
        under = Result("r", kind, target, {1: c1_fast, 32: (0.01, target / 1000 - 0.0001, 0.2, 240)})
        assert not at_target.ok() and under.ok(), kind
    # Slow at one client fails whatever c32 does.
    assert Result("r", "list", 50.0, {1: (0.04, 0.06, 0.07, 60), 32: (0.01, 0.02, 0.03, 240)}).misses() == [1]
    # A named concurrency that was not measured is not met.
    c1_only = Result("r", "list", 50.0, {1: c1_fast})
    assert not c1_only.ok() and c1_only.ok_cell() == "**no** (c32 not measured)"
    # The run-wide log search names c1 only (one search at a time): c32 does not count.
    search = Result("search", "search", 1000.0, {1: (0.056, 0.075, 0.08, 60), 32: (1.7, 1.868, 1.9, 240)})
    assert search.ok() and search.ok_cell() == "yes"
    assert not Result("search", "search", 1000.0, {1: (0.9, 1.2, 1.3, 5)}).ok()


def test_reference_compares_every_cell_with_metaflow() -> None:
    stats = {1: (0.0005, 0.0008, 0.001, 40), 8: (0.002, 0.003, 0.004, 80), 32: (0.007, 0.01, 0.02, 160)}
    rows = [Result("home: newest first", "list", 50.0, stats),
            Result("tag = team:ml (common)", "list", 50.0, stats),
            Result("tag = exp-010 (mid)", "list", 50.0, stats)]
    text = reference_table(rows)
    assert "| newest runs, page of 50 | home: newest first | 4.4 / 0.8 = 5.5x | 16.7 / 3.0 = 5.6x | " \
           "39 / 7.0 = 5.6x | yes |" in text
    assert "| mid-frequency tag (3,000 runs) | tag = exp-010 (mid) |" in text
    assert "| common tag (400k runs) | tag = team:ml (common) | 42.2 / 0.8 = 52.8x | 16.8 / 3.0 = 5.6x | " \
           "30.4 / 7.0 = 4.3x | **no** |" in text


def test_write_section_replaces_only_its_own(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Runtime vs Metaflow\n\nkeep me\n\n## API — after\n\nold table\n\n"
                   "## API — other\n\nkeep this table\n\n## Browser\n\nkeep too\n")
    row = Result("home", "list", 50.0, {1: (0.004, 0.006, 0.007, 40)})
    write_section(str(doc), [row], "python -m bench.api", 0.0, "after", "1.0 / 2.0 / 3.0", "1.5 / 2.0 / 3.0")
    text = doc.read_text()
    assert "old table" not in text and "keep me" in text and "keep too" in text and "keep this table" in text
    assert text.count("## API — after") == 1 and "| home |" in text and "1970-01-01 00:00 UTC" in text
    assert "1.0 / 2.0 / 3.0 at the start, 1.5 / 2.0 / 3.0 at the end" in text
    write_section(str(doc), [row], "python -m bench.api", 0.0, "new one")
    assert doc.read_text().rstrip().endswith("| home |  | 0 | 4.0 | 6.0 |  |  |  |  |  |  |  |  |  |  | < 50 | **no** (c32 not measured) |  |")



def test_write_section_says_whether_json_was_held_by_version(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    row = Result("home", "list", 50.0, {1: (0.004, 0.006, 0.007, 40)})
    write_section(str(doc), [row], "python -m bench.api", 0.0, "on")
    write_section(str(doc), [row], "python -m bench.api --no-version-cache", 0.0, "off", version_cache=False)
    on, off = doc.read_text().split("## API — off")
    assert "held by version (FLOWSCOPE_VERSION_CACHE, the default)" in on and "VERSION_CACHE=false" not in on
    assert "FLOWSCOPE_VERSION_CACHE=false: every page builds every row's JSON" in off


@pytest.mark.parametrize("module", ["bench.live", "bench.live_browsers", "bench.browser", "bench.browser_report"])
def test_the_benchmarks_that_format_load_import(module: str) -> None:
    """bench.live, bench.browser and bench.live_browsers format the load with load_avg (they failed
    to import when it was gone)."""
    importlib.import_module(module)
    assert load_avg((2.345, 3.05, 14.0)) == "2.3 / 3.0 / 14.0"
