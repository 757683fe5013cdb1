"""Cards in a Metaflow datastore, laid out as metaflow 2.19's ``CardDatastore`` writes them.

The card root of a task is ``<ds-root>/mf.cards`` (what ``metaflow.cards.get_cards`` reads: the
task's ``ds-root`` metadata joined with ``CARD_SUFFIX``). Under it a task's cards are
``<flow>/runs/<run>/steps/<step>/tasks/<task>/cards/<type>[-<id>]-<hash>.html``; cards written
by clients older than June 2022 lack the ``steps/<step>`` part, and like Metaflow's client we
read that directory only when the first one holds nothing. ``<hash>`` is the card's uuid, the
field name of the ``card-info`` metadata entry that ``card create`` registers right after
saving the file (its ``attempt_id`` tag says which attempt rendered the card).

Everything read here is untrusted: only file names of the documented form are listed, a card
is only ever opened by a name taken from such a listing (never from a URL), listings and
reads are bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backend.metaflow_store.roots import DatastoreRoot, FileEntry, StoreError

CARD_SUFFIX = "mf.cards"            # metaflow_config.CARD_SUFFIX
MAX_CARD_BYTES = 64 * 1024 * 1024   # a default card is ~1 MiB (its JS bundle is inlined)
MAX_CARD_FILES = 1000               # files in one task's cards directory
_PART = re.compile(r"^[A-Za-z0-9_]+$")   # metaflow's CARD_ID_PATTERN, also true of uuid hex hashes


@dataclass(frozen=True, slots=True)
class CardFile:
    name: str               # the file name, <type>[-<id>]-<hash>.html
    type: str
    id: str | None          # the id given to @card(id=...)
    hash: str
    size: int
    modified_ms: int


def card_root(ds_root: str) -> str:
    """The card store of a datastore root (local path or s3://…)."""
    return ds_root.rstrip("/") + "/" + CARD_SUFFIX


def parse_card_name(name: str) -> tuple[str, str | None, str] | None:
    """``default-report-77528711….html`` → (type, id, hash); None for any other name."""
    if not name.endswith(".html"):
        return None
    parts = name[: -len(".html")].split("-")
    if len(parts) not in (2, 3) or not all(_PART.match(p) for p in parts):
        return None
    if len(parts) == 2:
        return parts[0], None, parts[1]
    return parts[0], parts[1], parts[2]


def card_dirs(flow: str, run: str, step: str, task: str) -> tuple[str, str]:
    """The task's cards directory (relative to the card root), then the pre-2022 one."""
    for part in (flow, run, step, task):
        if not part or "/" in part or "\\" in part or part in (".", ".."):
            raise StoreError(f"invalid pathspec component {part!r}")
    return (f"{flow}/runs/{run}/steps/{step}/tasks/{task}/cards",
            f"{flow}/runs/{run}/tasks/{task}/cards")


def list_cards(root: DatastoreRoot, flow: str, run: str, step: str, task: str) -> tuple[str, list[CardFile]]:
    """(directory, cards in it by file name); files of other names are skipped."""
    directory = ""
    cards: list[CardFile] = []
    for directory in card_dirs(flow, run, step, task):
        for entry in root.list_files(directory, MAX_CARD_FILES):
            parsed = parse_card_name(entry.name)
            if parsed is not None:
                cards.append(CardFile(entry.name, *parsed, entry.size, entry.modified_ms))
        if cards:
            break
    return directory, cards


def read_card(root: DatastoreRoot, directory: str, card: CardFile, limit: int = MAX_CARD_BYTES) -> bytes | None:
    """The HTML of a card found by ``list_cards`` (None if it has gone since)."""
    if parse_card_name(card.name) is None or directory.startswith("/") or ".." in directory.split("/"):
        raise StoreError(f"refusing to read card {directory}/{card.name}")
    if card.size > limit:
        raise StoreError(f"card {card.name} is {card.size} bytes, over the {limit}-byte limit")
    return root.read(f"{directory}/{card.name}", limit)


# Runtime data updates (``current.card.refresh()``) are written beside the cards directory, as
# ``runtime/<type>[-<id>]-<hash>.data.json`` (CardDatastore.save_data), overwritten on every refresh.
DATA_SUFFIX = ".data.json"
MAX_DATA_BYTES = 16 * 1024 * 1024


def parse_data_name(name: str) -> tuple[str, str | None, str] | None:
    """``blank-live-8073….data.json`` → (type, id, hash); None for any other name."""
    if not name.endswith(DATA_SUFFIX):
        return None
    return parse_card_name(name[: -len(DATA_SUFFIX)] + ".html")


def runtime_dir(flow: str, run: str, step: str, task: str) -> str:
    cards, _old = card_dirs(flow, run, step, task)
    return cards[: -len("cards")] + "runtime"


def list_card_data(root: DatastoreRoot, flow: str, run: str, step: str, task: str) -> dict[str, FileEntry]:
    """The task's runtime data files by card hash."""
    directory = runtime_dir(flow, run, step, task)
    out: dict[str, FileEntry] = {}
    for entry in root.list_files(directory, MAX_CARD_FILES):
        parsed = parse_data_name(entry.name)
        if parsed is not None:
            out[parsed[2]] = entry
    return out


def read_card_data(root: DatastoreRoot, flow: str, run: str, step: str, task: str, entry: FileEntry) -> bytes | None:
    if parse_data_name(entry.name) is None:
        raise StoreError(f"refusing to read card data {entry.name}")
    if entry.size > MAX_DATA_BYTES:
        raise StoreError(f"card data {entry.name} is {entry.size} bytes, over the {MAX_DATA_BYTES}-byte limit")
    return root.read(f"{runtime_dir(flow, run, step, task)}/{entry.name}", MAX_DATA_BYTES)
