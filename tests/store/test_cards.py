"""Cards: components render escaped HTML; pages are self-contained; default card; saving."""

from __future__ import annotations

import re
import struct
import zlib
from html.parser import HTMLParser
from typing import Any

import pytest

from contract.datastore import Datastore
from core_runtime.artifacts import persist_artifacts
from core_runtime.cards import (
    Artifact,
    CardError,
    Image,
    Markdown,
    ProgressBar,
    Table,
    default_card,
    markdown_to_html,
    render_card,
    save_card,
)
from core_runtime.store import RunRef, RunStore

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Tags(HTMLParser):
    """Collects tags and attributes of a page, to check what a page would load or run."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(page: str) -> Tags:
    p = Tags()
    p.feed(page)
    return p


def assert_self_contained(page: str) -> None:
    tags = parse(page).tags
    names = [t for t, _a in tags]
    assert "script" not in names and "iframe" not in names and "link" not in names
    for tag, attrs in tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        if tag == "img":
            assert (attrs["src"] or "").startswith("data:image/")
        if tag == "a":
            assert re.match(r"^(https?://|mailto:)", attrs["href"] or "")
    assert "Content-Security-Policy" in page


def test_markdown_subset() -> None:
    out = markdown_to_html("# Title\n\nSome **bold**, *it* and `code`.\n\n- a\n- b\n\n1. one\n\n"
                           "```\nx < y\n```\n---\n> quoted\n[docs](https://example.com/a?b=1&c=2)")
    assert "<h1>Title</h1>" in out
    assert "<p>Some <strong>bold</strong>, <em>it</em> and <code>code</code>.</p>" in out
    assert "<ul><li>a</li><li>b</li></ul>" in out and "<ol><li>one</li></ol>" in out
    assert "<pre><code>x &lt; y</code></pre>" in out and "<hr>" in out
    assert "<blockquote>quoted</blockquote>" in out
    assert 'href="https://example.com/a?b=1&amp;c=2"' in out


def test_markdown_escapes_everything_else() -> None:
    out = markdown_to_html(EVIL + "\n\n[click](javascript:alert(1)) [x](data:text/html,hi) `<b>`")
    assert "<script" not in out and "<img" not in out and "javascript:" not in out.split("click")[0]
    assert "&lt;script&gt;" in out and "&lt;b&gt;" in out
    assert "href" not in out


def test_table_escapes_cells_and_nests_components() -> None:
    t = Table([[EVIL, 1.5, Markdown("**b**")], [None, [1, 2], True]], headers=["<h>", "n", "md"])
    t.add_row(["x", "y", "z"])
    out = t.render()
    assert "<th>&lt;h&gt;</th>" in out and "&lt;script&gt;" in out and "<script" not in out
    assert "<strong>b</strong>" in out and "<td>1.5</td>" in out and "<code>[1, 2]</code>" in out
    assert out.count("<tr>") == 4


def test_image_from_png_bytes() -> None:
    png = tiny_png()
    out = Image(png, label="plot <1>").render()
    assert 'src="data:image/png;base64,' in out and "plot &lt;1&gt;" in out
    assert Image(b"\xff\xd8\xff\xe0rest").mime == "image/jpeg"


def test_image_rejects_svg_and_junk() -> None:
    with pytest.raises(CardError, match="must be PNG, JPEG, GIF or WebP"):
        Image(b"<svg onload=alert(1)></svg>")
    with pytest.raises(CardError, match="not int"):
        Image(42)


def test_image_from_matplotlib() -> None:
    matplotlib = pytest.importorskip("matplotlib", reason="matplotlib is not installed in the venv")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    assert Image.from_matplotlib(fig).mime == "image/png"


def test_artifact_and_progress() -> None:
    out = Artifact({"k": EVIL}, name="cfg").render()
    assert "cfg" in out and "dict" in out and "&lt;script&gt;" in out and "<script" not in out
    bar = ProgressBar(max=200, label="epochs", unit="ep")
    bar.update(50, metadata="loss 0.1")
    out = bar.render()
    assert "width:25.0%" in out and "50/200 ep · loss 0.1" in out
    with pytest.raises(CardError, match="max must be positive"):
        ProgressBar(max=0)


def test_render_card_is_self_contained() -> None:
    page = render_card([Markdown("# Report\n[ok](https://x.org)"), Table([[1]], ["a"]), Image(tiny_png()),
                        Artifact(3.5), ProgressBar(value=3), "plain <text>", {"raw": 1}],
                       title=EVIL)
    assert page.startswith("<!DOCTYPE html>")
    assert_self_contained(page)
    assert page.count('<section class="component">') == 7
    assert "<title>&lt;script&gt;" in page and "plain &lt;text&gt;" in page


def test_default_card_lists_artifacts(datastore: Datastore) -> None:
    records = persist_artifacts(datastore, "CardFlow", "train", {"alpha": 0.1, "evil": EVIL,
                                                                 "data": list(range(5000))})
    page = default_card("CardFlow/3/train/7", records, created_at_ms=0)
    assert_self_contained(page)
    assert "Artifacts (3)" in page and "CardFlow/3/train/7" in page
    assert "list of 5000 items" in page and "&lt;script&gt;" in page and "KiB" in page
    rows = [attrs for tag, attrs in parse(page).tags if tag == "tr"]
    assert len(rows) == 4  # header + 3 artifacts
    empty = default_card("CardFlow/3/start/1", [])
    assert "no artifacts" in empty


def test_save_card(datastore: Datastore, store: RunStore, run: RunRef, db: Any) -> None:
    task = store.create_task(run, "train")
    store.start_attempt(task, 0)
    page = render_card([Markdown("hi ☃")], title="t")
    key = save_card(datastore, store, task, run.flow_id, run.run_id, 0, "default", "default", page)
    assert key == f"{run.flow_id}/{run.run_id}/train/{task.task_id}/cards/0.default.html"
    assert datastore.get(key).decode() == page
    with db.cursor() as cur:
        cur.execute("SELECT card_id, type, location, size FROM cards WHERE task_pk = %s", (task.task_pk,))
        assert cur.fetchone() == ("default", "default", key, len(page.encode()))
