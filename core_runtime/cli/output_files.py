"""Files the CLI writes for a caller that polls them (--run-id-file, --runner-attribute-file).

Each is written whole or not at all (a temporary file renamed over the path): a caller reading
while the run starts never sees an empty or half-written file.
"""

from __future__ import annotations

import os


def write_whole(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
