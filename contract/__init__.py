"""The contract every part of Flowscope stands on, and that imports none of them.

- ``contract.pg``: the Postgres schema (migrations), its roles, and how to find the database;
- ``contract.settings``: every FLOWSCOPE_* setting, typed and declared once;
- ``contract.logs_format``: the one log-chunk format, for writers and readers;
- ``contract.datastore``: the datastore's key layout and its local and S3 clients.

The runtime (core_runtime), the UI backend and the ingest service import from here; nothing here
imports them (import-linter checks it: ``make lint``).
"""
