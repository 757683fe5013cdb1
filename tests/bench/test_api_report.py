"""bench.api's numbers and its docs section: percentiles by nearest rank, one section replaced in place."""

from __future__ import annotations

from pathlib import Path

from bench.api_report import Result, percentile, table, write_section


def test_percentile_nearest_rank() -> None:
    values = [i / 1000 for i in range(1, 101)]          # 1..100 ms
    assert percentile(values, 50) == 0.050 and percentile(values, 95) == 0.095 and percentile(values, 99) == 0.099
    assert percentile([0.2], 99) == 0.2 and percentile([], 50) == 0.0


def test_table_marks_misses_and_sql_ratio() -> None:
    fast = Result("home", "list", 50.0, {1: (0.004, 0.006, 0.007, 40), 32: (0.1, 0.2, 0.3, 160)}, sql_p50=0.002, first=0.01)
    slow = Result("search", "search", 1000.0, {1: (2.0, 3.0, 3.5, 5)})
    text = table([fast, slow])
    assert "| home | 10 | 4.0 | 6.0 | 7.0 | 100.0 | 200.0 | 300.0 | 2.00 | 2.0x |  | < 50 | yes |" in text
    assert text.splitlines()[-1].endswith("| < 1000 | **no** |")


def test_table_says_what_the_response_cache_answered() -> None:
    row = Result("home", "list", 50.0, {1: (0.001, 0.002, 0.002, 40), 32: (0.01, 0.02, 0.03, 160)}, first=0.01,
                 first_cache={"miss": 1}, cache={1: {"hit": 40}, 32: {"hit": 150, "coalesced": 8, "miss": 2}})
    warm = Result("run", "detail", 50.0, {1: (0.001, 0.002, 0.002, 40)}, first=0.002,
                  first_cache={"run-hit": 1}, cache={1: {"-": 40}})
    text = table([row, warm])
    assert "| home | 10 | 1.0 |" in text and "| 40/40, 158/160 | < 50 | yes |" in text
    assert "| run | 2 (run-hit) |" in text and "| 0/40 | < 50 | yes |" in text


def test_write_section_replaces_only_its_own(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Runtime vs Metaflow\n\nkeep me\n\n## API\n\nold table\n\n## Browser\n\nkeep too\n")
    row = Result("home", "list", 50.0, {1: (0.004, 0.006, 0.007, 40)})
    write_section(str(doc), [row], "python -m bench.api", 0.0, "after")
    text = doc.read_text()
    assert "old table" not in text and "keep me" in text and "keep too" in text
    assert text.count("## API") == 1 and "| home |" in text and "1970-01-01 00:00 UTC" in text
