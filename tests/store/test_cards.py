"""Card components render Metaflow's card JSON; documents; self-contained pages; card rows."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import pytest

from contract.cards.page import has_charts
from core_runtime.cards import (
    Artifact,
    CardError,
    Error,
    Image,
    Markdown,
    ProgressBar,
    Table,
    ValueBox,
    VegaChart,
    card_doc,
    card_page,
)
from core_runtime.store import RunRef, RunStore
from tests.cards.pages import assert_strict_page, of_type, page_state

EVIL = '</script><script>alert("x")</script><img src=x onerror=alert(1)>'


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_components_render_metaflow_card_json() -> None:
    md = Markdown("""
        # Title
        text""")
    assert md.safe_render()["source"] == "\n# Title\ntext" and md.safe_render()["id"].startswith("markdown_")
    bar = ProgressBar(max=200, label="epochs", unit="ep")
    bar.update(50, metadata="loss 0.1")
    out = bar.safe_render()
    assert {k: out[k] for k in ("type", "max", "value", "label", "unit", "details")} == {
        "type": "progressBar", "max": 200, "value": 50, "label": "epochs", "unit": "ep", "details": "loss 0.1"}
    art = Artifact({"k": EVIL}, name="cfg").safe_render()
    assert art["type"] == "artifacts" and art["data"][0]["name"] == "cfg" and art["data"][0]["type"] == "dict"
    assert EVIL in art["data"][0]["data"]       # data, never markup: the renderer shows it as text
    err = Error(ValueError("boom"), "Training failed").safe_render()
    assert err["type"] == "log" and err["data"] == "Training failed\n\nValueError('boom')"
    vb = ValueBox(title="acc", value=0.9)
    vb.update(value=0.95)
    assert vb.safe_render()["value"] == 0.95


def test_table_nests_components_and_previews_values() -> None:
    t = Table([[EVIL, 1.5, Markdown("**b**")], [None, [1, 2], True]], headers=["<h>", "n", "md"])
    t.add_row([Image(tiny_png()), VegaChart({"mark": "bar"}), "z"])
    out = t.safe_render()
    assert out["columns"] == ["<h>", "n", "md"]
    assert out["data"][0][:2] == [EVIL, 1.5] and out["data"][0][2]["type"] == "markdown"
    assert out["data"][1] == [None, "[1, 2]", True]
    assert [c["type"] for c in out["data"][2][:2]] == ["image", "vegaChart"]
    assert has_charts({"components": [out]})
    with pytest.raises(CardError, match="update the components inside"):
        t.update()


def test_images_from_bytes_pil_and_matplotlib() -> None:
    png = tiny_png()
    assert Image(png, label="plot").safe_render()["src"].startswith("data:image/png;base64,")
    # Bad input never fails the step: the card says why (as Metaflow's Image does).
    assert "not a PNG" in Image(b"<svg onload=alert(1)></svg>").safe_render()["data"]
    assert "not int" in Image(42).safe_render()["data"]
    from PIL import Image as PILImage

    pil = Image.from_pil_image(PILImage.new("RGB", (3, 3), "red"), label="pil")
    assert pil.safe_render()["src"].startswith("data:image/png;base64,")
    matplotlib = pytest.importorskip("matplotlib", reason="matplotlib is not installed in the venv")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    assert Image.from_matplotlib(fig).safe_render()["src"].startswith("data:image/png;base64,")
    axes_img = Image.from_matplotlib(ax)   # an Axes works too
    axes_img.update(fig)
    assert axes_img.safe_render()["type"] == "image"
    with pytest.raises(CardError, match="disable_updates"):
        Image(png).update(png)


def test_vega_chart_from_altair() -> None:
    alt = pytest.importorskip("altair", reason="altair is not installed in the venv")
    chart = alt.Chart(alt.Data(values=[{"a": 1, "b": 2}])).mark_bar().encode(x="a:Q", y="b:Q")
    out = VegaChart.from_altair_chart(chart).safe_render()
    assert out["type"] == "vegaChart" and out["spec"]["mark"]["type"] == "bar"
    assert out["spec"]["width"] == "container"
    with pytest.raises(CardError, match="not an altair chart"):
        VegaChart.from_altair_chart({"mark": "bar"})


def test_default_and_blank_documents() -> None:
    records = [{"name": "alpha", "type": "float", "size": 10, "preview": "0.1"},
               {"name": "data", "type": "list", "size": 5000, "preview": "list of 5000 items"}]
    doc = card_doc("default", "F/3/train/7", [Markdown("hi").safe_render()], attempt=1,
                   started_ms=1000, finished_ms=4000, records=records)
    assert of_type(doc, "title")[0]["text"] == "F/3/train/7"
    (arts,) = of_type(doc, "artifacts")
    assert [a["name"] for a in arts["data"]] == ["alpha", "data"] and "4.9 KiB" in arts["data"][1]["type"]
    (meta,) = of_type(doc, "table")
    assert meta["vertical"] and "Task Duration" in meta["columns"]
    running = card_doc("default", "F/3/train/7", [], records=None)
    assert "when the task finishes" in of_type(running, "text")[0]["text"]
    blank = card_doc("blank", "F/3/train/7", [Markdown("x").safe_render()], options={"title": "Report"})
    assert blank["components"][0] == {"type": "page", "title": "Report", "contents": [of_type(blank, "markdown")[0]]}
    other = card_doc("pytorch", "F/3/train/7", [])
    assert "cannot render" in of_type(other, "log")[0]["data"]


def test_card_page_is_self_contained_and_escapes_its_state() -> None:
    doc = card_doc("blank", "F/1/s/2", [Markdown(EVIL).safe_render()])
    page = card_page({"doc": doc, "seq": 1, "final": True}, title=EVIL)
    assert_strict_page(page)
    assert page.count("<script") == 2          # the state (inert JSON) and the renderer
    assert "&lt;/script&gt;" in page.split("</title>")[0]
    assert page_state(page)["doc"] == json.loads(json.dumps(doc))
    with_chart = card_page({"doc": card_doc("blank", "F/1/s/2", [VegaChart({"mark": "bar"}).safe_render()])}, "t")
    assert with_chart.count("<script") == 3 and "FlowscopeCharts" in with_chart
    assert_strict_page(with_chart)


def test_record_card_versions(store: RunStore, run: RunRef, db: Any) -> None:
    task = store.create_task(run, "train")
    store.start_attempt(task, 0)
    store.record_card(task, 0, "live", "blank", "k/page1", 100, data_location="k/1.json", final=False)
    store.record_card(task, 0, "live", "blank", "k/page1", None, data_location="k/2.json", final=False)
    store.record_card(task, 0, "live", "blank", "k/final", 300, data_location="k/3.json", final=True)
    store.record_card(task, 0, "live", "blank", "k/late", 1, data_location="k/4.json", final=False)
    with db.cursor() as cur:
        cur.execute("SELECT location, size, data_location, final FROM cards WHERE task_pk = %s", (task.task_pk,))
        assert cur.fetchone() == ("k/final", 300, "k/3.json", True)   # a late live version is ignored
    task2 = store.create_task(run, "train")
    store.start_attempt(task2, 0)
    store.record_card(task2, 0, "live", "blank", "k/p", 5, data_location="k/a.json", final=False)
    store.finish_attempt(task2, 0, status="failed", exit_code=1)
    store.close_live_cards(task2, 0)
    with db.cursor() as cur:
        cur.execute("SELECT final FROM cards WHERE task_pk = %s", (task2.task_pk,))
        assert cur.fetchone() == (True,)       # the attempt ended: its card is as last refreshed
