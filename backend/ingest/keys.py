"""Objects shared by the ingest app's handlers (aiohttp AppKeys)."""

from __future__ import annotations

import aiopg
from aiohttp import web

from contract.settings import Settings

POOL = web.AppKey("ingest_pool", aiopg.Pool)
SETTINGS = web.AppKey("ingest_settings", Settings)
