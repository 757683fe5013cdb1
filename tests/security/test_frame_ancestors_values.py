"""FLOWSCOPE_FRAME_ANCESTORS is a CSP frame-ancestors source list, checked at start-up: a value
such as `javascript:` used to pass (only ';', ',' and line breaks were refused) and went into
every page's Content-Security-Policy header, where browsers drop the bad source with a console
warning and the operator never learns the setting does not say what they meant."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from contract.settings import Settings, SettingsError

GOOD = ["'none'", "'self'", "'SELF'", "https:", "http: https:", "'self' https://portal.example.com",
        "*.example.com", "https://*.example.com:*", "portal.example.com:8443/embed/", "*",
        "'self'\thttps://a.example.com", "http://localhost:3000"]


@pytest.mark.parametrize("value", GOOD)
def test_csp_source_lists_are_accepted(value: str) -> None:
    assert Settings(frame_ancestors=value).frame_ancestors == value


@pytest.mark.parametrize("value,token", [
    ("javascript:", "'javascript:'"),
    ("'self' data:", "'data:'"),
    ("blob: 'self'", "'blob:'"),
    ("javascript:alert(1)", "'javascript:alert(1)'"),
    ("'unsafe-inline'", "\"'unsafe-inline'\""),
    ("'nonce-abc123'", "\"'nonce-abc123'\""),
    ("'sha256-AAAA'", "\"'sha256-AAAA'\""),
    ("https://a.example.com;script-src", "'https://a.example.com;script-src'"),
    ("https://a.example.com,", "'https://a.example.com,'"),
    ("https://", "'https://'"),
    ("ftp://files.example.com", "'ftp://files.example.com'"),
])
def test_other_tokens_are_refused_by_name(value: str, token: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings(frame_ancestors=value)
    assert str(info.value) == (
        f"FLOWSCOPE_FRAME_ANCESTORS={value!r}: {token} is not a frame-ancestors source: expected "
        "'self', 'none', http: or https:, or a host like https://*.example.com:443")


def test_none_alone_and_no_line_breaks() -> None:
    with pytest.raises(SettingsError, match=r"'none' cannot be combined with other sources$"):
        Settings(frame_ancestors="'self' 'none'")
    with pytest.raises(SettingsError, match=r"the value holds '\\n'$"):
        Settings(frame_ancestors="https:\nSet-Cookie: a=b")
    with pytest.raises(SettingsError) as info:
        Settings(frame_ancestors="self https:")
    assert str(info.value).endswith(": 'self' is a host name to a browser; the keyword is written 'self'")
    with pytest.raises(SettingsError, match="got nothing$"):
        Settings(frame_ancestors="  ")


def test_serve_stops_with_one_line_naming_the_setting_and_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWSCOPE_")}
    # A DSN nothing answers: were the value let through, serve fails fast on it (no embedded Postgres).
    env.update(FLOWSCOPE_HOME=str(tmp_path / "home"), FLOWSCOPE_FRAME_ANCESTORS="'self' javascript:",
               FLOWSCOPE_DSN="postgresql://nobody@127.0.0.1:9/none?connect_timeout=2")
    result = subprocess.run([sys.executable, "-m", "backend.cli", "serve"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", (
        "error: FLOWSCOPE_FRAME_ANCESTORS=\"'self' javascript:\": 'javascript:' is not a frame-ancestors "
        "source: expected 'self', 'none', http: or https:, or a host like https://*.example.com:443\n"))
    assert not (tmp_path / "home").exists()   # refused before the database or the port


async def test_none_in_any_case_also_denies_framing_to_old_browsers(aiohttp_client: Any,
                                                                    make_secure_app: Any) -> None:
    """'NONE' is accepted (CSP keywords are case-insensitive), so it must act as 'none' does."""
    client = await aiohttp_client(make_secure_app(frame_ancestors=" 'NONE' "))
    resp = await client.get("/")
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Content-Security-Policy"].endswith("; frame-ancestors 'NONE'")
