"""Storing a rendered card: datastore first, then its ``cards`` row (the row is the event)."""

from __future__ import annotations

from contract.datastore import Datastore, card_key
from core_runtime.store import RunStore, TaskRef


def save_card(ds: Datastore, store: RunStore, task: TaskRef, flow_id: str, run_id: str, attempt: int,
              card_id: str, card_type: str, page: str) -> str:
    """Write the HTML page and record it; returns the datastore key."""
    data = page.encode("utf-8")
    key = card_key(flow_id, run_id, task.step_name, task.task_id, attempt, card_id)
    ds.put(key, data)
    store.record_card(task, attempt, card_id, card_type, key, len(data))
    return key
