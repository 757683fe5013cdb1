"""The DAG cache rule, shared by the sources and the live feed: app[DAG_CACHE], by run_pk.

A run's ``runs.dag`` is written once and never changed afterwards, but not always with the run
row: core_runtime writes it at INSERT, the ingest service only once Metaflow's ``_parameters``
task posts its ``_graph_info`` artifact (a moment, or for a run that failed before, never,
after the run appears). So only a DAG with steps is cached; an empty answer is read again next
time (a primary-key lookup), never kept as the run's DAG for good.
"""

from __future__ import annotations

from typing import Any

from backend.cache.lru import LruCache
from backend.cache.sizes import deep_size
from backend.db import steps as steps_db
from backend.db.query import Db


def dag_size(dag: dict[str, Any]) -> int:
    # A parsed DAG is ~5x its JSON text (small dicts and strings): walk it, it is small.
    return deep_size(dag)


def known(dag: dict[str, Any] | None) -> bool:
    return bool(dag and dag.get("steps"))


async def cached_dag(cache: LruCache[dict[str, Any]], db: Db, run_pk: int) -> dict[str, Any]:
    """The run's DAG from ``runs.dag`` ({} while it is not written yet)."""
    dag = cache.get(run_pk)
    if dag is None:
        dag = await steps_db.run_dag(db, run_pk) or {}
        if known(dag):
            cache.put(run_pk, dag)
    return dag
