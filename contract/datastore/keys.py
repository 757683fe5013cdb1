"""Datastore keys, exactly as docs/schema.md "Datastore layout" defines them."""

from __future__ import annotations


def blob_key(flow: str, sha: str) -> str:
    """An artifact blob, content-addressed and shared by every run of the flow."""
    return f"{flow}/data/{sha[:2]}/{sha}"


def task_prefix(flow: str, run_id: str, step: str, task_id: str) -> str:
    return f"{flow}/{run_id}/{step}/{task_id}"


def log_chunk_key(flow: str, run_id: str, step: str, task_id: str, attempt: int, stream: str,
                  seq: int) -> str:
    return f"{task_prefix(flow, run_id, step, task_id)}/logs/{attempt}.{stream}.{seq:06d}"


def card_key(flow: str, run_id: str, step: str, task_id: str, attempt: int, card_id: str) -> str:
    return f"{task_prefix(flow, run_id, step, task_id)}/cards/{attempt}.{card_id}.html"


def card_version_key(flow: str, run_id: str, step: str, task_id: str, attempt: int, card_id: str,
                     seq: int, kind: str) -> str:
    """One version of a card while its task runs: ``kind`` "json" (the card state) or "html"
    (the page). Every refresh writes a new key, so every key stays immutable."""
    return f"{task_prefix(flow, run_id, step, task_id)}/cards/{attempt}.{card_id}.{seq:06d}.{kind}"
