"""Watching a live card in the browser: start a card flow, open its card, sample the frame.

Used by the browser tests (tests/e2e/test_live_cards.py) and the latency benchmark (bench/cards.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CARD_FLOWS = Path(__file__).resolve().parents[1] / "fixtures" / "cards"


def api(base: str, path: str) -> Any:
    with urllib.request.urlopen(f"{base}{path}", timeout=10) as resp:
        return json.loads(resp.read())


def wait_until(what: str, probe: Callable[[], Any], timeout: float = 60, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
            if value:
                return value
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def start_flow(script: str, env: dict[str, str], tmp: Path, steps: int, sleep: float = 1.0,
               extra: list[str] | None = None, gated: bool = False) -> tuple[subprocess.Popen[bytes], Path]:
    """Starts a live card flow in the background; returns the process and its run-id file.

    ``gated``: the task renders its card once and waits for ``release(id_file)`` before advancing.
    """
    id_file = tmp / f"{script}.run-id"
    if gated:
        env = {**env, "LIVE_CARD_GATE": str(_gate(id_file))}
    log = open(tmp / f"{script}.log", "wb")   # noqa: SIM115 - the process writes it until it ends
    proc = subprocess.Popen([sys.executable, str(CARD_FLOWS / script), *(extra or []), "run", "--run-id-file", str(id_file)],
                            env={**env, "LIVE_CARD_STEPS": str(steps), "LIVE_CARD_SLEEP": str(sleep)},
                            cwd=str(tmp), stdout=log, stderr=subprocess.STDOUT)
    return proc, id_file


def _gate(id_file: Path) -> Path:
    return id_file.with_suffix(".go")


def release(id_file: Path) -> None:
    """Lets a gated live card flow (start_flow(gated=True)) go on past its first render."""
    _gate(id_file).touch()


def card_task(base: str, flow: str, id_file: Path, timeout: float = 90) -> tuple[str, str]:
    """(run id, task id) of the start task once its live card is listed."""
    run = wait_until("the run id", lambda: id_file.exists() and id_file.read_text().strip(), timeout)
    tasks = wait_until("the start task", lambda: api(base, f"/api/flows/{flow}/runs/{run}/steps/start/tasks")["data"],
                       timeout)
    task = str(tasks[0]["task_id"])
    wait_until("the live card", lambda: api(base, f"/api/flows/{flow}/runs/{run}/steps/start/tasks/{task}/cards")["data"],
               timeout)
    return run, task


class Network:
    """Every request of the page and its frames, and every console message about a CSP violation."""

    def __init__(self, page: Any, base: str) -> None:
        self.base = base
        self.requests: list[tuple[str, str]] = []
        self.csp: list[str] = []
        self.failed: dict[str, str] = {}        # url -> why the browser did not send it / it failed
        self.answered: list[str] = []           # urls a response came back for
        page.on("request", lambda r: self.requests.append((r.url, r.frame.url if r.frame else "")))
        page.on("requestfailed", lambda r: self.failed.__setitem__(r.url, r.failure or ""))
        page.on("response", lambda r: self.answered.append(r.url))
        page.on("console", lambda m: self.csp.append(m.text) if "Content Security Policy" in m.text else None)

    def leaving(self) -> list[str]:
        local = (self.base, self.base.replace("http:", "ws:"), "data:", "about:", "blob:")
        return [u for u, _f in self.requests if not u.startswith(local)]

    def from_card_frames(self) -> list[str]:
        return [u for u, f in self.requests if "/cards/" in f]


@dataclass
class Sample:
    t: float
    percent: float | None
    final: bool
    marker: Any
    scroll: float


@dataclass
class CardWatch:
    samples: list[Sample] = field(default_factory=list)

    def distinct_percents(self) -> list[float]:
        out: list[float] = []
        for s in self.samples:
            if s.percent is not None and (not out or out[-1] != s.percent):
                out.append(s.percent)
        return out


SAMPLE_JS = """() => ({percent: document.querySelector('.progress') ? Number(document.querySelector('.progress').dataset.percent) : null,
  final: document.documentElement.dataset.final === 'true', marker: window.__cardMarker ?? null, scroll: window.scrollY})"""


def card_frame(page: Any, timeout: float = 30) -> Any:
    """The card's iframe once its document is attached (the element can be there a moment before)."""
    deadline = time.monotonic() + timeout
    while True:
        handle = page.locator("iframe[data-testid=card-frame]").element_handle()
        frame = handle.content_frame() if handle is not None else None
        if frame is not None:
            frame.wait_for_load_state()
            return frame
        if time.monotonic() > deadline:
            raise AssertionError("the card frame never got a document")
        time.sleep(0.1)


def watch(page: Any, proc: subprocess.Popen[bytes], timeout: float = 120, every: float = 0.15) -> CardWatch:
    """Samples the card frame until the flow process ends and the card says it is final."""
    w = CardWatch()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            s = card_frame(page).evaluate(SAMPLE_JS)
            w.samples.append(Sample(time.monotonic(), s["percent"], s["final"], s["marker"], s["scroll"]))
            if proc.poll() is not None and s["final"] and s["percent"] == 100:
                return w
        except Exception:  # noqa: BLE001, S110 - the frame may be between documents for a moment
            pass
        time.sleep(every)
    raise AssertionError(f"the card never became final at 100 %: {w.samples[-5:]}")
