"""Cards of Metaflow runs: listed and served from Metaflow's card store (``<ds-root>/mf.cards``),
compared with what Metaflow's own client (``metaflow.cards.get_cards``) finds."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from mf_harness import BUCKET, PY, Ingest, client_read, get_json, metaflow_env, run_flow, s3_env

from backend.metaflow_store.card_pages import extract_doc
from backend.metaflow_store.cards import card_dirs, list_cards, parse_card_name, read_card
from backend.metaflow_store.roots import StoreError, open_root
from backend.sources.metaflow_cards import name_cards
from tests.cards.pages import assert_strict_page, of_type, page_state

pytestmark = pytest.mark.compat

FLOW = "CardFlow"

# Every task of a run with the cards get_cards(Task(...)) returns; each card's HTML (Card.get())
# is written to a file, as text exactly as the client returned it.
CLIENT_CARDS = """
import os
from metaflow.cards import get_cards
from metaflow.plugins.cards.exception import CardNotPresentException
out = {}
for step in Run(%(run)r):
    for task in step:
        try:
            found = list(get_cards(Task(task.pathspec)))
        except CardNotPresentException:
            found = []
        cards = []
        for c in found:
            path = os.path.join(%(out)r, c.hash + ".html")
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(c.get())
            cards.append({"type": c.type, "id": c.id, "hash": c.hash, "path": c.path, "html_file": path})
        out[task.pathspec] = {"cards": cards, "ds_root": task.metadata_dict.get("ds-root")}
print(json.dumps(out))
"""


def client_cards(run: str, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    out = cwd / f"client-cards-{run}"
    out.mkdir(exist_ok=True)
    result: dict[str, Any] = client_read(CLIENT_CARDS % {"run": f"{FLOW}/{run}", "out": str(out)}, env, cwd)
    return result


def task_path(pathspec: str) -> str:
    flow, run, step, task = pathspec.split("/")
    return f"/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}"


class CardRun:
    def __init__(self, run: str, env: dict[str, str], tmp: Path):
        self.run, self.env, self.tmp = run, env, tmp
        self.client = client_cards(run, env, tmp)

    def task(self, step: str) -> str:
        (pathspec,) = [p for p in self.client if p.split("/")[2] == step]
        return pathspec


@pytest.fixture(scope="module")
def card_run(ingest: Ingest, tmp_path_factory: pytest.TempPathFactory) -> CardRun:
    """One CardFlow run on the local datastore (the datastore is the run's working directory)."""
    tmp = tmp_path_factory.mktemp("cardflow")
    env = metaflow_env(ingest, tmp)
    run_flow("card_flow.py", ["run", "--run-id-file", str(tmp / "run-id")], env, tmp)
    return CardRun((tmp / "run-id").read_text().strip(), env, tmp)


async def assert_same_as_client(api: TestClient[Any, Any], pathspec: str, client: list[dict[str, Any]],
                                card_store: str | None = None) -> list[dict[str, Any]]:
    """Flowscope lists the cards Metaflow's client finds, and serves each one's document (the very JSON
    in the file Metaflow wrote) in its own card page, drawn by its bundled renderer."""
    listed = (await get_json(api, task_path(pathspec) + "/cards"))["data"]
    assert sorted((c["type"], c["hash"]) for c in listed) == sorted((c["type"], c["hash"]) for c in client)
    by_hash = {c["hash"]: c for c in client}
    for card in listed:
        mf = by_hash[card["hash"]]
        assert card["card_id"] == (mf["id"] or mf["type"])
        resp = await api.get(card["url"])
        body = await resp.read()
        assert resp.status == 200, body[:300]
        assert resp.headers["Content-Type"].startswith("text/html")
        assert resp.headers["Content-Security-Policy"].startswith("sandbox allow-scripts")
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "immutable" in resp.headers["Cache-Control"] and card["final"] is True
        original = Path(mf["html_file"]).read_bytes()
        assert card["size"] == len(original) and card["created_at"] > 1_700_000_000_000
        if card_store is not None:
            assert Path(card_store, mf["path"]).read_bytes() == original
        # The document of the file in Metaflow's card store (what Card.get() returns), in a strict page.
        served = body.decode("utf-8")
        assert_strict_page(served)
        found = extract_doc(original)
        assert found is not None and page_state(served)["doc"] == found.doc
        assert page_state(served)["reload_token"] == found.reload_token == "final"
    return listed


async def test_cards_match_metaflow_client(api: TestClient[Any, Any], card_run: CardRun) -> None:
    start = card_run.task("start")
    client = card_run.client[start]
    store = client["ds_root"] + "/mf.cards"
    listed = await assert_same_as_client(api, start, client["cards"], store)
    assert sorted((c["card_id"], c["type"], c["attempt"]) for c in listed) == [
        ("default", "default", 0), ("notes", "blank", 0)]
    notes = next(c for c in listed if c["card_id"] == "notes")
    html = await (await api.get(notes["url"])).text()
    # The Markdown appended to current.card["notes"], in the card's document.
    assert [c["source"] for c in of_type(page_state(html)["doc"], "markdown")] == ["# Notes\nhello from **start**"]

    # The retried task: its card was rendered by attempt 1 (the card-info metadata says so).
    middle = card_run.task("middle")
    listed = await assert_same_as_client(api, middle, card_run.client[middle]["cards"], store)
    assert [(c["card_id"], c["type"], c["attempt"]) for c in listed] == [("report", "default", 1)]

    end = card_run.task("end")
    assert card_run.client[end]["cards"] == []
    assert (await get_json(api, task_path(end) + "/cards"))["data"] == []


async def test_attempts_and_unknown_ids(api: TestClient[Any, Any], card_run: CardRun) -> None:
    base = task_path(card_run.task("middle")) + "/cards"
    assert (await get_json(api, base, attempt=0))["data"] == []
    (report,) = (await get_json(api, base, attempt=1))["data"]
    assert report["url"].endswith("/cards/report?attempt=1")
    latest = await api.get(base + "/report")       # no attempt: the latest attempt's card
    assert latest.status == 200 and "fs-card-state" in await latest.text()
    missing = await get_json(api, base + "/report", 404, attempt=0)
    assert "card 'report' not found" in missing["error"]["message"]
    assert "(attempt 0)" in missing["error"]["message"]
    # Ids are matched against the listing only: file names, hashes and paths are not ids.
    for bad in (f"default-report-{report['hash']}", report["hash"], "..", "%2e%2e%2fstart",
                "default-report-x.html", "..%2f..%2fdata"):
        resp = await api.get(f"{base}/{bad}")
        assert resp.status == 404, bad


async def test_untrusted_files_in_the_card_store(api: TestClient[Any, Any], card_run: CardRun,
                                                 tmp_path: Path) -> None:
    start = card_run.task("start")
    flow, run, step, task = start.split("/")
    store = card_run.client[start]["ds_root"] + "/mf.cards"
    directory = Path(store, card_dirs(flow, run, step, task)[0])
    secret = tmp_path / "secret.html"
    secret.write_text("<p>outside the datastore</p>")
    # None of these is a card: a symlink out of the store (with a card's name), names of
    # another form, a directory with a card's name.
    os.symlink(secret, directory / "default-evil-0123abcd.html")
    (directory / "notacard.html").write_text("x")
    (directory / "a-b-c-d.html").write_text("x")
    (directory / "default-x.txt").write_text("x")
    (directory / "default-dir-0123abce.html").mkdir()
    listed = (await get_json(api, task_path(start) + "/cards"))["data"]
    assert sorted(c["card_id"] for c in listed) == ["default", "notes"]
    assert (await api.get(task_path(start) + "/cards/evil")).status == 404

    root = open_root(store)
    found_in, cards = list_cards(root, flow, run, step, task)
    assert found_in == card_dirs(flow, run, step, task)[0] and len(cards) == 2
    # Size limit: a card over it is refused, not read.
    with pytest.raises(StoreError, match="limit"):
        read_card(root, found_in, cards[0], limit=100)
    with pytest.raises(StoreError, match="invalid pathspec"):
        card_dirs(flow, "..", step, task)
    with pytest.raises(StoreError, match="escapes"):
        root.list_files("../..", 10)
    with pytest.raises(StoreError, match="more than 1 files"):
        root.list_files(found_in, 1)


def test_card_names() -> None:
    assert parse_card_name("default-77528711674a484bb741fdccf23aea20.html") == (
        "default", None, "77528711674a484bb741fdccf23aea20")
    assert parse_card_name("blank-notes-9b95.html") == ("blank", "notes", "9b95")
    for bad in ("default.html", "a-b-c-d.html", "../x-y.html", "a-b.htm", "a-.html", "a b-c.html"):
        assert parse_card_name(bad) is None, bad
    # Two cards of one attempt with the same id (or type): each is told apart by its hash.
    from backend.metaflow_store.cards import CardFile
    a, b, c = (CardFile(f"default-{h}.html", "default", None, h, 1, 1) for h in ("aa", "bb", "cc"))
    assert [n for n, _, _ in name_cards([(a, 0), (b, 0), (c, 1)])] == ["default-aa", "default-bb", "default"]


async def test_datastore_errors_and_missing_root(api: TestClient[Any, Any], ingest: Ingest) -> None:
    """A task without ds-root has no cards; one whose card store cannot be read answers 502."""
    flow = "CardProbeFlow"
    ingest.post(f"/flows/{flow}", {"flow_id": flow, "ts_epoch": 1})
    status, run = ingest.post(f"/flows/{flow}/run", {"flow_id": flow, "user_name": "tester", "ts_epoch": 1,
                                                     "tags": [], "system_tags": []})
    assert status == 200, run
    runs = f"/flows/{flow}/runs/{run['run_number']}"
    ingest.post(f"{runs}/steps/start/step", {})
    tasks = [ingest.post(f"{runs}/steps/start/task", {})[1]["task_id"] for _ in range(2)]
    api_base = f"/api/flows/{flow}/runs/{run['run_number']}/steps/start/tasks"
    assert (await get_json(api, f"{api_base}/{tasks[0]}/cards"))["data"] == []
    assert (await get_json(api, f"{api_base}/{tasks[0]}/cards/default", 404))["error"]["message"]
    md = [{"field_name": "ds-root", "type": "ds-root", "value": "gs://bucket/mf", "tags": ["attempt_id:0"]}]
    assert ingest.post(f"{runs}/steps/start/tasks/{tasks[1]}/metadata", md)[0] == 200
    err = await get_json(api, f"{api_base}/{tasks[1]}/cards", 502)
    assert "cannot read the cards of" in err["error"]["message"]
    assert "only local directories and s3://" in err["error"]["message"]


async def test_resumed_task_shows_its_origins_cards(api: TestClient[Any, Any], ingest: Ingest,
                                                    tmp_path: Path) -> None:
    env = metaflow_env(ingest, tmp_path)
    run_flow("card_flow.py", ["run", "--run-id-file", str(tmp_path / "first")],
             dict(env, CARD_FLOW_FAIL="1"), tmp_path, expect_ok=False)
    run_flow("card_flow.py", ["resume", "--run-id-file", str(tmp_path / "resumed")], env, tmp_path)
    resumed = (tmp_path / "resumed").read_text().strip()
    client = client_cards(resumed, env, tmp_path)
    (start,) = [p for p in client if p.split("/")[2] == "start"]
    task = (await get_json(api, task_path(start)))["data"]
    assert task["cloned_from"] and task["cloned_from"].split("/")[1] != resumed
    assert len(client[start]["cards"]) == 2     # get_cards follows the clone to its origin
    listed = await assert_same_as_client(api, start, client[start]["cards"])
    assert {c["attempt"] for c in listed} == {task["attempt"]}
    (middle,) = [p for p in client if p.split("/")[2] == "middle"]   # ran again: its own card
    listed = await assert_same_as_client(api, middle, client[middle]["cards"])
    assert [c["card_id"] for c in listed] == ["report"]


async def test_cards_from_s3(api: TestClient[Any, Any], ingest: Ingest, moto_endpoint: str,
                             tmp_path: Path) -> None:
    env = s3_env(ingest, tmp_path, moto_endpoint, "cards")
    run_flow("card_flow.py", ["run", "--run-id-file", str(tmp_path / "id")], env, tmp_path)
    run = (tmp_path / "id").read_text().strip()
    client = client_cards(run, env, tmp_path)
    (start,) = [p for p in client if p.split("/")[2] == "start"]
    assert client[start]["ds_root"] == f"s3://{BUCKET}/cards"
    listed = await assert_same_as_client(api, start, client[start]["cards"])
    assert sorted(c["card_id"] for c in listed) == ["default", "notes"]
    # The document of the object in the bucket, too.
    import boto3
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    for card in listed:
        mf = next(c for c in client[start]["cards"] if c["hash"] == card["hash"])
        obj = s3.get_object(Bucket=BUCKET, Key=f"cards/mf.cards/{mf['path']}")["Body"].read()
        found = extract_doc(obj)
        assert found is not None and page_state(await (await api.get(card["url"])).text())["doc"] == found.doc


async def _live_versions(api: TestClient[Any, Any], base: str, proc: asyncio.subprocess.Process,
                         seen: list[tuple[bool, int, int, str]]) -> None:
    """While the flow runs, polls the start task's card: each (final, progress value, max, source)
    the API serves — source "data" for the runtime data update the frame applies to the page,
    "page" for the page's own bar where there is no update to apply."""
    while proc.returncode is None:
        await asyncio.sleep(0.3)
        tasks = (await get_json(api, base))["data"]
        if not tasks:
            continue
        cards = (await get_json(api, f"{base}/{tasks[0]['task_id']}/cards"))["data"]
        if not cards:
            continue
        (card,) = cards
        resp = await api.get(card["url"])
        if resp.status != 200:
            continue
        # What the frame shows: the page's progress bar, or the data update's when it has one.
        bars, source = of_type(page_state(await resp.text())["doc"], "progressBar"), "page"
        data = (await get_json(api, card["data_url"]))["data"]
        if data["kind"] == "components":
            update = [c for c in data["data"].values() if isinstance(c, dict) and c.get("type") == "progressBar"]
            if update:
                bars, source = update, "data"
        seen += [(card["final"], int(b["value"]), int(b["max"]), source) for b in bars]


async def test_live_card_of_metaflow_on_s3(api: TestClient[Any, Any], ingest: Ingest, moto_endpoint: str,
                                           tmp_path: Path) -> None:
    """A runtime card of real metaflow on S3 (moto's server, an emulator): while the task runs, the
    card is listed as live and serves a version before the last one (Metaflow renders refreshes in
    a subprocess and skips some: any one will do); once it ends, its document is redrawn in a
    strict page with the chart and its data update is served for the frame."""
    env = s3_env(ingest, tmp_path, moto_endpoint, "livecards")
    env.update(LIVE_CARD_STEPS="6", LIVE_CARD_SLEEP="1.0")
    flow = Path(__file__).resolve().parents[1] / "fixtures" / "cards" / "mf_live_card_flow.py"
    log = tmp_path / "flow.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            PY, str(flow), "--no-pylint", "run", "--run-id-file", str(tmp_path / "id"),
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
        seen: list[tuple[bool, int, int, str]] = []
        try:
            deadline = time.monotonic() + 240
            while proc.returncode is None and not (tmp_path / "id").exists() and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            run = (tmp_path / "id").read_text().strip() if (tmp_path / "id").exists() else None
            assert run, log.read_text()
            base = f"/api/flows/LiveCardFlow/runs/{run}/steps/start/tasks"
            await asyncio.wait_for(_live_versions(api, base, proc, seen), 240)
        finally:
            if proc.returncode is None:
                proc.kill()
    assert await proc.wait() == 0, log.read_text()
    # Seen live: a version listed as not final from a refresh of the running task (progress moved
    # past the first render's 0 and short of the end), whatever refreshes Metaflow skipped.
    live = [(v, m) for final, v, m, _src in seen if not final]
    assert any(0 < v < m for v, m in live), seen
    # The updates the frame applies only move forward (a page's own bar is where it was rendered:
    # the frame keeps the newest update it applied until a newer page or update arrives).
    updates = [v for final, v, _m, src in seen if not final and src == "data"]
    assert updates == sorted(updates), seen
    (task,) = (await get_json(api, base))["data"]
    (card,) = (await get_json(api, f"{base}/{task['task_id']}/cards"))["data"]
    assert card["card_id"] == "live" and card["type"] == "blank" and card["final"] is True
    page = await (await api.get(card["url"])).text()
    assert_strict_page(page)
    state = page_state(page)
    assert state["reload_token"] == "final" and "FlowscopeCharts" in page
    (chart,) = of_type(state["doc"], "vegaChart")
    assert [p["epoch"] for p in chart["spec"]["data"]["values"]] == [1, 2, 3, 4, 5, 6]
    (bar,) = of_type(state["doc"], "progressBar")
    assert bar["value"] == bar["max"] == 6
    data = (await get_json(api, card["data_url"]))["data"]
    assert data["kind"] in ("none", "components") and data["final"] is True
