"""Postgres: where the database is (embedded or a DSN), its schema migrations and its roles."""

from core_runtime.pg.connect import DatabaseError, connect_writer, resolve_dsns
from core_runtime.pg.migrate import migrate

__all__ = ["DatabaseError", "connect_writer", "resolve_dsns", "migrate"]
