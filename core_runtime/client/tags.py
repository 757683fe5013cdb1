"""Changing a run's user tags from the client (``run.add_tag`` …), with Metaflow's rules:

- system tags (``user:…``, ``runtime:…``) cannot be removed; adding one is a no-op;
- removals are applied before additions, all in one transaction;
- a tag is a non-empty string of at most 500 characters; a run may carry at most 50 user tags
  (a set that is already larger may still shrink).

The write is one UPDATE of the run's row, so the UI's live feed shows the new tags at once.
It needs the writer role (FLOWSCOPE_DSN): the client otherwise reads through the SELECT-only one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core_runtime.client.errors import FlowscopeTaggingError

MAX_USER_TAGS = 50
MAX_TAG_LENGTH = 500

LOCK_RUN = "SELECT run_pk, tags, system_tags FROM runs WHERE flow_id = %s AND run_id = %s FOR UPDATE"
SET_TAGS = "UPDATE runs SET tags = %s WHERE run_pk = %s"


def validate_tag(tag: Any) -> str:
    if isinstance(tag, bytes):
        try:
            tag = tag.decode("utf-8")
        except UnicodeDecodeError:
            raise FlowscopeTaggingError("Tags must be UTF-8 decodable") from None
    if not isinstance(tag, str):
        raise FlowscopeTaggingError(f"Tags must be some kind of string (bytes or unicode), got "
                                    f"{type(tag).__name__}")
    try:
        tag.encode("utf-8")
    except UnicodeEncodeError:
        raise FlowscopeTaggingError("Tags must be UTF-8 encodable") from None
    if not tag:
        raise FlowscopeTaggingError("Tags must not be empty string")
    if len(tag) > MAX_TAG_LENGTH:
        raise FlowscopeTaggingError(f"Tag is too long {len(tag)} > {MAX_TAG_LENGTH}")
    return tag


def tag_list(tags: Any, what: str) -> list[str]:
    """An iterable of tags (a single string is refused, as Metaflow refuses it)."""
    if tags is None:
        return []
    if isinstance(tags, (str, bytes)):
        raise FlowscopeTaggingError(f"{what} may not be a string")
    try:
        items = list(tags)
    except TypeError:
        raise FlowscopeTaggingError(f"{what} must be iterable") from None
    return [validate_tag(t) for t in items]


def next_user_tags(user: Iterable[str], system: Iterable[str], remove: list[str],
                   add: list[str]) -> frozenset[str]:
    """The user tags after the mutation; FlowscopeTaggingError if a rule is broken."""
    existing, system_set = frozenset(user), frozenset(system)
    bad = sorted(set(remove) & system_set)
    if bad:
        raise FlowscopeTaggingError(f"Cannot remove a tag that is an existing system tag ({bad})")
    result = (existing - set(remove)) | (set(add) - system_set)
    if len(result) > MAX_USER_TAGS and len(result) > len(existing):
        raise FlowscopeTaggingError(f"Cannot increase size of tag set beyond {MAX_USER_TAGS}")
    return result


def mutate_run_tags(conn: Any, flow: str, run_id: str, remove: list[str], add: list[str]) -> frozenset[str]:
    """Apply the mutation on a writer connection in one transaction; returns the new user tags."""
    if not remove and not add:
        raise FlowscopeTaggingError("Must add or remove at least one tag")
    # One transaction: the row lock keeps concurrent mutations from losing each other's tags.
    with conn, conn.cursor() as cur:
        cur.execute(LOCK_RUN, (flow, run_id))
        row = cur.fetchone()
        if row is None:
            raise FlowscopeTaggingError(f"Run not found ({flow}, {run_id})")
        run_pk, user, system = row
        result = next_user_tags(user or [], system or [], remove, add)
        if result != frozenset(user or []):
            cur.execute(SET_TAGS, (sorted(result), run_pk))
    return result
