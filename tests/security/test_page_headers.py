"""Headers of every page: the UI's Content-Security-Policy (and frame-ancestors) on each HTML
response, the stricter policies of cards and plugin files left alone, and RFC 6266 downloads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest

from backend.api.respond import attachment
from backend.auth import LOGIN_CSS
from backend.security_headers import style_hash
from backend.static import NOT_BUILT_CSS
from contract.datastore import open_datastore
from contract.settings import Settings
from core_runtime.artifacts import persist_artifacts
from tests.backend.live_helpers import new_run, new_store


def _directives(policy: str) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
            for part in (p.strip() for p in policy.split(";")) if part}


def assert_ui_policy(headers: Any, ancestors: str = "'none'") -> dict[str, str]:
    csp = _directives(headers["Content-Security-Policy"])
    assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'"
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert csp["frame-ancestors"] == ancestors
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    return csp


@pytest.mark.parametrize("path", ["/", "/index.html", "/SomeFlow/12/train/345?tab=logs"])
async def test_every_ui_page_carries_the_csp(aiohttp_client: Any, make_secure_app: Any, path: str) -> None:
    client = await aiohttp_client(make_secure_app())
    resp = await client.get(path)
    assert resp.status == 200 and resp.content_type == "text/html"
    assert_ui_policy(resp.headers)
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "same-origin"


async def test_frame_ancestors_setting(aiohttp_client: Any, make_secure_app: Any) -> None:
    client = await aiohttp_client(make_secure_app(frame_ancestors="'self' https://portal.example.com"))
    resp = await client.get("/")
    assert_ui_policy(resp.headers, "'self' https://portal.example.com")
    assert "X-Frame-Options" not in resp.headers   # it cannot say "this portal"; the CSP does


async def test_server_rendered_pages_allow_exactly_their_own_style(aiohttp_client: Any, make_secure_app: Any,
                                                                   tmp_path: Path) -> None:
    empty = tmp_path / "not-built"
    empty.mkdir()
    client = await aiohttp_client(make_secure_app(static_dir=str(empty)))
    page = await client.get("/")
    assert "web UI has not been built" in await page.text()
    assert style_hash(NOT_BUILT_CSS) in assert_ui_policy(page.headers)["style-src"]
    assert "style=" not in await page.text()   # inline style attributes would need 'unsafe-inline'

    client = await aiohttp_client(make_secure_app(auth_token="t0ken"))
    login = await client.get("/", headers={"Accept": "text/html"})
    assert login.status == 401 and 'name="token"' in await login.text()
    assert style_hash(LOGIN_CSS) in assert_ui_policy(login.headers)["style-src"]
    styles = re.findall(r"<style>(.*?)</style>", await login.text(), re.DOTALL)
    assert styles == [LOGIN_CSS]


async def test_plugin_files_keep_their_own_sandboxing_policy(aiohttp_client: Any, make_secure_app: Any) -> None:
    client = await aiohttp_client(make_secure_app())
    resp = await client.get("/-/plugins/step-durations/index.html")
    assert resp.status == 200 and resp.content_type == "text/html"
    csp = _directives(resp.headers["Content-Security-Policy"])
    assert csp["connect-src"] == "'none'" and "sandbox" in csp and csp["frame-ancestors"] == "'self'"


async def test_api_answers_are_not_embeddable_elsewhere(aiohttp_client: Any, make_secure_app: Any) -> None:
    client = await aiohttp_client(make_secure_app())
    resp = await client.get("/api/flows")
    assert resp.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in resp.headers   # JSON is not a page


HOSTILE_NAME = 'we"ird; filename=evil.exe\r\nX-Injected: 1 ünï'


def _filename(header: str) -> str:
    """What a browser saves it as: ``filename*`` (RFC 6266 section 4.3), checking the parameters
    parse as exactly ``attachment``, one ``filename`` and one ``filename*``."""
    params = re.findall(r';\s*([\w*]+)=("(?:[^"\\]|\\.)*"|[^;\s]*)', header)
    assert header.startswith("attachment;") and [k for k, _ in params] == ["filename", "filename*"], params
    charset, _, encoded = dict(params)["filename*"].partition("''")
    assert charset == "UTF-8"
    return unquote(encoded)


def test_content_disposition_follows_rfc_6266() -> None:
    header = attachment(HOSTILE_NAME + ".pickle")
    assert "\r" not in header and "\n" not in header
    assert _filename(header) == HOSTILE_NAME + ".pickle"   # filename* wins, decoded exactly
    fallback = re.search(r'filename="([^"]*)"', header)
    assert fallback and fallback.group(1) == "we_ird_ filename_evil.exe__X-Injected_ 1 _n_.pickle"
    assert attachment("plain.pickle") == "attachment; filename=\"plain.pickle\"; filename*=UTF-8''plain.pickle"


async def test_an_artifact_named_to_break_the_header_downloads_safely(
        aiohttp_client: Any, make_secure_app: Any, settings: Settings, pg_dsn: str) -> None:
    store = new_store(pg_dsn)
    run = new_run(store, "DispositionFlow")
    task = store.create_task(run, "start")
    store.start_attempt(task, 0)
    store.record_artifacts(task, 0, persist_artifacts(open_datastore(settings), "DispositionFlow", "start",
                                                      {HOSTILE_NAME: 42}))
    client = await aiohttp_client(make_secure_app())
    resp = await client.get(f"/api/flows/DispositionFlow/runs/{run.run_id}/steps/start/tasks/{task.task_id}"
                            f"/artifacts/{quote(HOSTILE_NAME, safe='')}/download")
    assert resp.status == 200, await resp.text()
    assert "X-Injected" not in resp.headers
    assert _filename(resp.headers["Content-Disposition"]) == HOSTILE_NAME + ".pickle"
