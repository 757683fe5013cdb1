"""IncludeFile and Config values on the run page, in Chromium, both themes: an included file shows
as its name, size and kind (text with its encoding, or binary) with a link to the artifact holding
its content — never as the raw descriptor JSON — and a Config as collapsible JSON. The same for a
run recorded by the real pip metaflow through the ingest service, where the file is shown by the
datastore URL Metaflow uploaded it to (Metaflow records no file name).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import api_get
from flow_runs import run_flow
from mf_runs import metaflow_env, run_metaflow

MF_FLOWS = Path(__file__).resolve().parents[1] / "ingest" / "flows"
API_FLOWS = Path(__file__).resolve().parents[1] / "runtime" / "flows" / "api"


@pytest.fixture(scope="module")
def values_run(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    """core_runtime's ValuesFlow: IncludeFiles text/raw (the same 14-byte file) and absent, Configs
    settings and extra, plain parameters."""
    return run_flow(flowscope_env, API_FLOWS / "values_flow.py", tmp_path_factory.mktemp("e2e-values"))


@pytest.fixture(scope="module")
def mf_include_run(ingest_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """pip metaflow's IncludeConfigFlow, recorded through the ingest service."""
    pytest.importorskip("metaflow", reason="the pip metaflow package (extra 'compat') is missing")
    tmp = tmp_path_factory.mktemp("e2e-mf-include")
    for name in ("include_config_flow.py", "include_config_data.txt"):
        shutil.copy(MF_FLOWS / name, tmp / name)
    return run_metaflow(tmp / "include_config_flow.py", metaflow_env(ingest_url, tmp), tmp)


def header(page: Any, flow: str, run: str) -> Any:
    page.goto(f"/{flow}/{run}")
    page.locator("[data-testid=run-params][data-kinds=ready]").wait_for()   # the DAG says which is which
    params = page.get_by_test_id("run-params")
    assert '"type":"IncludeFile"' not in (params.text_content() or "")    # never the raw descriptor
    return params


def check_file(params: Any, name: str, info: list[str]) -> Any:
    file = params.locator(f'[data-param="{name}"]')
    assert file.get_attribute("data-kind") == "IncludeFile"
    text = file.get_by_test_id("file-info").text_content() or ""
    for part in info:
        assert part in text, (part, text)
    return file


def open_config(params: Any, name: str, summary: str) -> Any:
    config = params.locator(f'[data-param="{name}"]')
    assert config.get_attribute("data-kind") == "Config"
    assert not config.get_by_test_id("config-json").is_visible()         # collapsed at first
    config.locator("summary").click()
    assert (config.locator("summary").text_content() or "") == f"{name}={summary}"
    shown = config.get_by_test_id("config-json")
    assert shown.is_visible()
    return json.loads(shown.text_content() or "")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_include_file_and_config_on_the_run_page(page: Any, values_run: str, tmp_path: Path, theme: str) -> None:
    page.emulate_media(color_scheme=theme)
    params = header(page, "ValuesFlow", values_run)
    text = check_file(params, "text", ["14 B", "text, utf-8"])
    assert text.get_by_test_id("file-name").text_content() == "values_flow_data.txt"
    check_file(params, "raw", ["14 B", "binary"])
    assert params.locator('[data-param="absent"]').text_content() == "absent=no file"
    assert params.locator('[data-param="n"]').text_content() == "n=42"
    assert open_config(params, "settings", "{3 keys}") == {"project": "values", "base": 21, "greeting": "hi"}
    assert open_config(params, "extra", "{1 key}") == {"k": 1}
    page.mouse.move(5, 5)
    page.screenshot(path=str(tmp_path / f"include-config-{theme}.png"))
    # the content link opens the start task's artifact that stores the file's text
    text.get_by_test_id("file-content").click()
    page.wait_for_url("**/ValuesFlow/*/start/*?panel=artifacts&artifact=text")
    value = page.get_by_test_id("artifact-value")
    value.wait_for()
    assert "café au lait" in (value.text_content() or "")


def test_metaflow_recorded_include_file_and_config(page: Any, server: str, mf_include_run: str,
                                                    tmp_path: Path) -> None:
    recorded = api_get(server, f"/api/flows/IncludeConfigFlow/runs/{mf_include_run}")["data"]["parameters"]
    text_url = recorded["text"].pop("url")
    assert text_url.startswith("local://") and text_url == recorded["raw"].pop("url")   # one upload, by content
    assert recorded == {"alpha": 0.5, "settings": {"greeting": "hi", "sizes": [1, 2, 3]},
                        "text": {"type": "IncludeFile", "size": 14, "is_text": True, "encoding": "utf-8"},
                        "raw": {"type": "IncludeFile", "size": 14, "is_text": False, "encoding": "utf-8"}}
    params = header(page, "IncludeConfigFlow", mf_include_run)
    for name, kind in (("text", "text, utf-8"), ("raw", "binary")):
        file = check_file(params, name, ["14 B", kind])
        # Metaflow keeps the content gzipped at a datastore URL, not as an artifact: shown, not linked
        assert (file.get_by_test_id("file-url").text_content() or "").lstrip(" ·").startswith("local://")
        assert file.get_by_test_id("file-content").count() == 0
    assert params.locator('[data-param="alpha"]').text_content() == "alpha=0.5"
    assert open_config(params, "settings", "{2 keys}") == {"greeting": "hi", "sizes": [1, 2, 3]}
    page.screenshot(path=str(tmp_path / "include-config-metaflow.png"))
