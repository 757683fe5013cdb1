"""Where pip metaflow saves the cards of a local-datastore run, and what Flowscope shows for each case.

Metaflow 2.19's ``card create`` saves local cards in the ``.metaflow`` directory it finds from its
working directory (``<that>/mf.cards``), not under ``METAFLOW_DATASTORE_SYSROOT_LOCAL``, while its
client (``get_cards``) and Flowscope read ``<ds-root>/mf.cards``. Run from the sysroot (or below it),
both cards of TableCardFlow are listed and served; run from elsewhere, the cards land beside the
working directory, Metaflow's client finds none, and Flowscope's list says why instead of "No cards".
With ``METAFLOW_CARD_LOCALROOT`` set, Metaflow 2.19.39 saves them under the datastore root itself;
its client finds none there either, Flowscope reads them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from mf_harness import PY, Ingest, client_read, get_json, metaflow_env, run_flow

from backend.metaflow_store.card_pages import extract_doc
from tests.cards.pages import assert_strict_page, of_type, page_state

pytestmark = pytest.mark.compat

FLOW = "TableCardFlow"
SCRIPT = Path(__file__).resolve().parents[1] / "fixtures" / "cards" / "mf_table_card_flow.py"

CLIENT_CARDS = """
from metaflow.cards import get_cards
from metaflow.plugins.cards.exception import CardNotPresentException
(task,) = list(Step(%(step)r))
try:
    found = [{"type": c.type, "id": c.id, "hash": c.hash, "path": c.path} for c in get_cards(Task(task.pathspec))]
except CardNotPresentException:
    found = []
print(json.dumps({"task": task.id, "cards": found, "ds_root": task.metadata_dict.get("ds-root")}))
"""


class Placed:
    """One TableCardFlow run: its datastore under ``sysroot``, run from ``cwd``."""

    def __init__(self, ingest: Ingest, sysroot: Path, cwd: Path, extra: dict[str, str] | None = None):
        cwd.mkdir(parents=True, exist_ok=True)
        self.sysroot, self.cwd = sysroot, cwd
        self.env = metaflow_env(ingest, sysroot, extra)
        run_flow(str(SCRIPT), ["run", "--run-id-file", str(cwd / "run-id")], self.env, cwd)
        self.run = (cwd / "run-id").read_text().strip()
        found = client_read(CLIENT_CARDS % {"step": f"{FLOW}/{self.run}/start"}, self.env, cwd)
        self.task, self.client, self.ds_root = found["task"], found["cards"], found["ds_root"]
        self.path = f"/api/flows/{FLOW}/runs/{self.run}/steps/start/tasks/{self.task}/cards"

    def card_list(self) -> str:
        """What ``python flow.py card list`` prints for the start task, started from the run's cwd."""
        proc = subprocess.run([PY, str(SCRIPT), "--no-pylint", "card", "list", f"{self.run}/start/{self.task}"],
                              cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=120, check=False)
        return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def runs(ingest: Ingest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Placed]:
    tmp = tmp_path_factory.mktemp("cardstore")
    return {
        # The documented setup: run from (a directory below) METAFLOW_DATASTORE_SYSROOT_LOCAL.
        "below": Placed(ingest, tmp / "ds", tmp / "ds" / "project"),
        # The defect's setup: the sysroot elsewhere than the working directory.
        "elsewhere": Placed(ingest, tmp / "ds2", tmp / "work"),
        # METAFLOW_CARD_LOCALROOT set (to anything): Metaflow 2.19.39 saves under the datastore root.
        "localroot": Placed(ingest, tmp / "ds3", tmp / "work3",
                            {"METAFLOW_CARD_LOCALROOT": str(tmp / "ds3" / ".metaflow" / "mf.cards")}),
    }


@pytest.fixture(scope="module")
def elsewhere_card_list(runs: dict[str, Placed]) -> str:
    return runs["elsewhere"].card_list()


async def assert_table_cards(api: TestClient[Any, Any], r: Placed, store: Path,
                             hashes: list[str]) -> None:
    """The default card and the blank card with its Markdown and Table: listed with Metaflow's ids,
    types and hashes, each served in Flowscope's page with the document of its file in ``store``."""
    body = await get_json(api, r.path)
    listed = body["data"]
    assert body["notice"] is None
    assert sorted((c["card_id"], c["type"]) for c in listed) == [("default", "default"), ("metrics", "blank")]
    assert sorted(c["hash"] for c in listed) == sorted(hashes)
    directory = store / FLOW / "runs" / r.run / "steps" / "start" / "tasks" / r.task / "cards"
    docs = {}
    for card in listed:
        resp = await api.get(card["url"])
        html = await resp.text()
        assert resp.status == 200 and card["final"] is True, html[:300]
        assert_strict_page(html)
        (file,) = directory.glob(f"*-{card['hash']}.html")
        original = extract_doc(file.read_bytes())
        assert original is not None and page_state(html)["doc"] == original.doc
        docs[card["card_id"]] = page_state(html)["doc"]
    metrics = docs["metrics"]
    assert [c["source"] for c in of_type(metrics, "markdown")] == ["# Hold-out metrics\nscored by **TableCardFlow**"]
    (table,) = of_type(metrics, "table")
    assert table["columns"] == ["metric", "value"]
    assert table["data"] == [["precision", "0.91"], ["recall", "0.87"]]
    # Metaflow's default card: the task's artifacts are in its document.
    assert "scores" in str(docs["default"])


async def test_cards_of_a_run_from_below_the_sysroot(api: TestClient[Any, Any], runs: dict[str, Placed]) -> None:
    """What Metaflow's client finds (get_cards), Flowscope lists and serves."""
    r = runs["below"]
    assert r.ds_root == str(r.sysroot / ".metaflow")
    assert {(c["id"], c["type"]) for c in r.client} == {(None, "default"), ("metrics", "blank")}
    assert all(c["path"].startswith(f"{FLOW}/runs/{r.run}/steps/start/tasks/{r.task}/cards/") for c in r.client)
    await assert_table_cards(api, r, Path(r.ds_root) / "mf.cards", [c["hash"] for c in r.client])


async def test_cards_with_a_card_localroot(api: TestClient[Any, Any], runs: dict[str, Placed]) -> None:
    """With METAFLOW_CARD_LOCALROOT set, Metaflow 2.19.39 saves the cards under the datastore root
    itself, not in it: its client finds none there, Flowscope reads them where they are."""
    r = runs["localroot"]
    assert r.client == []
    assert not (r.sysroot / ".metaflow" / "mf.cards").exists()
    assert not (r.cwd / ".metaflow").exists()
    saved = list((Path(r.ds_root) / FLOW / "runs").rglob("*.html"))
    assert len(saved) == 2
    await assert_table_cards(api, r, Path(r.ds_root), [p.name[:-len(".html")].split("-")[-1] for p in saved])


async def test_cards_saved_beside_another_working_directory(api: TestClient[Any, Any], runs: dict[str, Placed],
                                                            elsewhere_card_list: str) -> None:
    """Run from outside the sysroot, Metaflow saves the cards under the working directory's
    ``.metaflow/mf.cards``: its own client finds none (get_cards reads ``<ds-root>/mf.cards``), its
    ``card list`` only from that directory; Flowscope's list is empty and says why."""
    r = runs["elsewhere"]
    assert r.ds_root == str(r.sysroot / ".metaflow")
    assert r.client == []
    assert not (Path(r.ds_root) / "mf.cards").exists()
    saved = sorted(p.name.split("-")[0] for p in (r.cwd / ".metaflow" / "mf.cards").rglob("*.html"))
    assert saved == ["blank", "default"]
    assert str(r.cwd / ".metaflow" / "mf.cards") in elsewhere_card_list, elsewhere_card_list

    body = await get_json(api, r.path)
    assert body["data"] == []
    notice = body["notice"]
    assert notice.startswith("Metaflow recorded 2 cards for this task (card-info metadata) that are not in "
                             f"the card store its datastore root names: {r.ds_root}/mf.cards/{FLOW}/runs/"), notice
    assert "working directory of the run, not under METAFLOW_DATASTORE_SYSROOT_LOCAL" in notice
    assert (await get_json(api, r.path, attempt=0))["notice"] == notice
    assert (await get_json(api, r.path, attempt=1))["notice"] is None    # no card-info of attempt 1
    assert (await api.get(r.path + "/metrics")).status == 404
