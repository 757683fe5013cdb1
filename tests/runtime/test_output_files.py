"""--run-id-file and --runner-attribute-file are written whole: a reader polling them never sees
an empty or partial file, and no temporary file is left beside them."""

from __future__ import annotations

import threading
from pathlib import Path

from core_runtime.cli.output_files import write_whole


def test_a_polling_reader_sees_one_whole_text_or_the_other(tmp_path: Path) -> None:
    path = tmp_path / "run-id"
    texts = ("1733" * 50_000, "2468" * 50_000)   # large enough that a plain write is seen half-done
    write_whole(str(path), texts[0])
    seen: list[str] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            seen.append(path.read_text())

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        for i in range(40):
            write_whole(str(path), texts[i % 2])
    finally:
        stop.set()
        reader.join()
    assert seen and all(s in texts for s in seen), sorted({len(s) for s in seen})
    assert [p.name for p in tmp_path.iterdir()] == ["run-id"]
