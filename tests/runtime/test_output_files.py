"""--run-id-file and --runner-attribute-file are written whole: a reader polling them never sees
an empty or partial file, and no temporary file is left beside them."""

from __future__ import annotations

import threading
from pathlib import Path

from core_runtime.cli.output_files import write_whole


def test_a_polling_reader_sees_nothing_or_the_whole_text(tmp_path: Path) -> None:
    path = tmp_path / "run-id"
    text = "1733" * 50_000          # large enough that a plain write is seen half-done
    seen: list[str] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            if path.exists():
                seen.append(path.read_text())

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        for _ in range(20):
            path.unlink(missing_ok=True)
            write_whole(str(path), text)
    finally:
        stop.set()
        reader.join()
    assert seen and all(s == text for s in seen), sorted({len(s) for s in seen})
    assert [p.name for p in tmp_path.iterdir()] == ["run-id"]
