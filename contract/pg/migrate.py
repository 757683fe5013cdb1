"""Versioned SQL migrations, applied in order, once, under an advisory lock.

Files are ``migrations/NNNN_name.sql``; the applied versions are kept in ``schema_migrations``.
Running ``migrate`` twice, or from two processes at once, is safe.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_LOCK_KEY = 0x466C6F77  # "Flow": serialises concurrent migrators

READER_ROLE = "flowscope_reader"


def migration_files() -> list[tuple[int, Path]]:
    out = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        out.append((int(path.name.split("_", 1)[0]), path))
    return out


def migrate(conn: Any) -> list[int]:
    """Apply pending migrations on a psycopg2 connection; returns the versions applied."""
    applied_now: list[int] = []
    old_autocommit = conn.autocommit
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)"
            )
            cur.execute("SELECT version, name FROM schema_migrations")
            done = {row[0]: row[1] for row in cur.fetchall()}
            for version, path in migration_files():
                if version in done:
                    if done[version] != path.name:
                        # A number reused by another change: skipping it would leave this one unapplied.
                        raise RuntimeError(
                            f"schema_migrations records version {version} as {done[version]}, but "
                            f"{path} has that number: this database was migrated by another build; "
                            f"move the recorded row to the file's new number or drop the database")
                    continue
                cur.execute(path.read_text())
                cur.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                    (version, path.name, int(time.time() * 1000)),
                )
                applied_now.append(version)
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    finally:
        conn.autocommit = old_autocommit
    return applied_now


def ensure_reader_role(conn: Any, password: str | None = None) -> None:
    """Create the SELECT-only role used by the UI backend and grant it read access.

    Needs CREATEROLE (true for the embedded server's superuser). With an external server
    the operator may create the role instead and set FLOWSCOPE_READER_DSN. A password (taken
    from FLOWSCOPE_READER_DSN) is set on the role so TCP deployments can log in with it.
    """
    old_autocommit = conn.autocommit
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (READER_ROLE,))
            if cur.fetchone() is None:
                cur.execute(f"CREATE ROLE {READER_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
            if password:
                cur.execute(f"ALTER ROLE {READER_ROLE} PASSWORD %s", (password,))
            cur.execute(f"GRANT CONNECT ON DATABASE {_quote_ident(conn.info.dbname)} TO {READER_ROLE}")
            cur.execute(f"GRANT USAGE ON SCHEMA public TO {READER_ROLE}")
            cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER_ROLE}")
            cur.execute(f"GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {READER_ROLE}")
            cur.execute(
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {READER_ROLE}"
            )
            # The reader never writes, even if a grant slips: every session is read-only.
            cur.execute(f"ALTER ROLE {READER_ROLE} SET default_transaction_read_only = on")
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    finally:
        conn.autocommit = old_autocommit


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
