"""Postgres: where the database is (embedded or a DSN), its schema migrations and its roles."""

from contract.pg.connect import DatabaseError, connect_writer, resolve_dsns
from contract.pg.migrate import migrate

__all__ = ["DatabaseError", "connect_writer", "migrate", "resolve_dsns"]
