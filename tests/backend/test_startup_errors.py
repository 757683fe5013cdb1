"""A bad FLOWSCOPE_CACHE_DIR stops the backend at start-up with a DatastoreError naming the
setting and the path (the CLI prints it as one `error: …` line). It used to surface as an
OSError that `flowscope serve` reported as "cannot listen: No such file or directory"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contract.datastore import DatastoreError


async def test_unusable_cache_dir_is_named(aiohttp_client: Any, make_app: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    where = str(blocker / "cache")
    with pytest.raises(DatastoreError) as info:
        await aiohttp_client(make_app(cache_dir=where))
    assert str(info.value) == (f"cannot create the on-disk cache at {where} (FLOWSCOPE_CACHE_DIR={where}): "
                               "Not a directory; set FLOWSCOPE_CACHE_DIR to a writable directory, or to off")
