"""The mirror's datastore reader asks about a root once, however many attempts of it a batch holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.mirror import enricher as enricher_module
from backend.mirror.enricher import Enricher, Job


def job(root: str, task: int) -> Job:
    return Job(root=root, flow="F", run_id="1", step="start", task_id=str(task), attempt=0, shas={},
               catch_step=False)


async def test_an_unreadable_root_is_probed_once_for_a_whole_batch(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    enricher = Enricher(None, threads=4)
    probes: list[str] = []
    real = enricher._probe

    def counted(root: str) -> tuple[bool, str]:
        probes.append(root)
        return real(root)

    enricher._probe = counted    # type: ignore[method-assign]
    missing = str(tmp_path / "gone" / ".metaflow")
    try:
        got = await enricher.inspect_many([job(missing, i) for i in range(50)])
        assert got == [None] * 50
        assert probes == [missing]
        assert enricher.unreadable == {missing: 50}
        # Logged once, with the reason.
        warnings = [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]
        assert len(warnings) == 1 and missing in warnings[0]
        # The answer is kept for PROBE_EVERY_S; after that the next batch probes again (once).
        await enricher.inspect_many([job(missing, i) for i in range(5)])
        assert probes == [missing]
        monkeypatch.setattr(enricher_module, "PROBE_EVERY_S", 0.0)
        await enricher.inspect_many([job(missing, i) for i in range(5)])
        assert probes == [missing, missing]
        assert enricher.unreadable == {missing: 60}
    finally:
        enricher.close()
