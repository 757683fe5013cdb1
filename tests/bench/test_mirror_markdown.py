"""bench.mirror's --markdown writer: a subsection is replaced where it stands, and a marker that
closes the section (another benchmark's start marker) stays after it."""

from __future__ import annotations

from pathlib import Path

from bench.mirror import SECTION, write_markdown

PAGE = f"""# Benchmarks

{SECTION}

How to read these.

### Live: old live figures

| old live |

### Backfill (old)

| old backfill |

<!-- other_bench:start -->
## Other benchmark

text
<!-- other_bench:end -->
"""


def test_a_live_table_replaces_the_old_one_in_place(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE)
    write_markdown(str(page), "live", "### Live: new live figures\n\n| new live |\n")
    text = page.read_text()
    assert "old live" not in text and text.count("### Live:") == 1
    assert text.index("new live figures") < text.index("### Backfill (old)")   # where the old one stood
    assert text.index("| old backfill |") < text.index("<!-- other_bench:start -->") < text.index("## Other benchmark")
    assert text.endswith("<!-- other_bench:end -->\n")


def test_a_backfill_table_keeps_the_closing_marker_after_it(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE)
    write_markdown(str(page), "backfill", "### Backfill (new)\n\n| new backfill |\n")
    text = page.read_text()
    assert "old backfill" not in text and "| old live |" in text
    assert text.index("| new backfill |") < text.index("<!-- other_bench:start -->\n## Other benchmark")


def test_the_docs_page_is_unchanged_by_rewriting_its_own_live_table(tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
    original = docs.read_text()
    start = original.index("### Live: commit → API")
    end = original.index("\n### ", start + 5)
    page = tmp_path / "benchmarks.md"
    page.write_text(original)
    write_markdown(str(page), "live", original[start:end])
    assert page.read_text() == original
