"""Chromium pages for the browser tests: Debian's binary (never a downloaded one), and a page that
fails its test on an uncaught script error or a Content-Security-Policy violation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]


def checked_page(browser: Any, base_url: str, timeout_ms: int = 15_000,
                 cookies: list[dict[str, str]] | None = None,
                 attacks: tuple[str, ...] = (), stopped: list[str] | None = None,
                 color_scheme: str = "light", permissions: list[str] | None = None,
                 init_scripts: tuple[str, ...] = ()) -> Iterator[Any]:
    """A fresh page (light theme unless ``color_scheme`` says otherwise, 1400×850) that fails the
    test on any uncaught script error or any Content-Security-Policy violation, in the page or its
    frames (a fixture body: yield from it; or ``next()`` it for the page and ``next(it, None)`` to
    close it and check).

    ``attacks``: regexes of violations that are a test's own hostile code being stopped (the
    probe plugin fetching the API from its sandbox); those go to ``stopped`` instead.
    ``permissions``: granted to the context (e.g. ``["notifications"]``); ``init_scripts``: run in
    every frame before the page's own scripts, after the CSP listener."""
    context = browser.new_context(viewport={"width": 1400, "height": 850}, base_url=base_url,
                                  color_scheme=color_scheme, permissions=permissions or [])
    if cookies:
        context.add_cookies(cookies)
    # Every frame reports its violations as a console error Chromium cannot suppress; this also
    # names the directive for the ones it only reports as events.
    context.add_init_script(CSP_LISTENER)
    for script in init_scripts:
        context.add_init_script(script)
    pg = context.new_page()
    pg.set_default_timeout(timeout_ms)
    errors: list[str] = []
    violations: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    def on_console(text: str) -> None:
        if not is_csp_violation(text):
            return
        if any(re.search(pattern, text) for pattern in attacks):
            if stopped is not None:
                stopped.append(text)
        else:
            violations.append(text)

    pg.on("console", lambda m: on_console(m.text))
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
    assert not violations, f"Content-Security-Policy violations: {violations}"


CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (e) => console.error(
  `CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || "inline"} in ${e.documentURI}`));"""


def is_csp_violation(text: str) -> bool:
    return text.startswith("CSP violation:") or "Content Security Policy" in text
