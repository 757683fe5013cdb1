"""Who runs the flow: FLOWSCOPE_USER, else Metaflow's METAFLOW_USER, else the login name."""

from __future__ import annotations

import getpass
import os
from typing import Any


def username(settings: Any) -> str:
    if getattr(settings, "user", None):
        return str(settings.user)
    if os.environ.get("METAFLOW_USER"):
        return os.environ["METAFLOW_USER"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):     # no login name (containers with arbitrary uids)
        return "unknown"
