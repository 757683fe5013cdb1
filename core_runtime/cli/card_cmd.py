"""``card view|get|list``: a task's cards from the command line, with Metaflow's options.

    python flow.py card get train                     # the first task of train in my latest run
    python flow.py card get 12/train/345 card.html --id summary
    python flow.py card view 12/train                 # opens the page in a browser (or says where it is)
    python flow.py card list [12/train] [--as-json] [--file cards.json]

PATHSPEC is ``step``, ``run_id/step`` or ``run_id/step/task_id``. A card is one self-contained
HTML page in the datastore (docs/cards.md); its hash is the SHA-1 of that page, and ``--hash``
takes any prefix of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

from core_runtime.cards.client import CardNotPresentException
from core_runtime.cli.args import UsageError
from core_runtime.cli.flow_info import FlowInfo

CARDS = """
SELECT card_id, type, location, size, attempt, decorator_id FROM cards
 WHERE task_pk = %s AND attempt = (SELECT max(attempt) FROM cards WHERE task_pk = %s)
 ORDER BY card_id
"""


@dataclass
class FoundCard:
    task: Any
    card_id: str
    type: str
    location: str
    html: bytes
    decorator_id: str | None = None     # the id given to @card: Metaflow's card id

    @property
    def hash(self) -> str:
        return hashlib.sha1(self.html).hexdigest()

    def as_json(self) -> dict[str, str | None]:
        return {"id": self.decorator_id, "hash": self.hash, "type": self.type, "filename": self.location}


def card_command(cmd: Any, info: FlowInfo) -> int:
    if not cmd.positional or cmd.positional[0] not in ("view", "get", "list"):
        raise UsageError("card needs a subcommand: card view|get|list [PATHSPEC]")
    sub, args = cmd.positional[0], cmd.positional[1:]
    if sub == "list":
        return _list(cmd, info, args)
    if not args:
        raise UsageError(f"card {sub} needs a PATHSPEC: step, run_id/step or run_id/step/task_id")
    if len(args) > (2 if sub == "get" else 1):
        raise UsageError(f"card {sub}: unexpected argument {args[-1]!r}")
    cards = _matching(cmd, _task(info, args[0]))
    if len(cards) > 1:
        _describe(cards, hint=f"card {sub} {args[0]} --hash {cards[0].hash[:8]}")
        return 0
    card = cards[0]
    if sub == "get":
        if len(args) == 2:
            with open(args[1], "wb") as fh:
                fh.write(card.html)
        else:
            sys.stdout.write(card.html.decode("utf-8", "replace"))
            sys.stdout.flush()
        return 0
    return _view(card)


def _task(info: FlowInfo, pathspec: str) -> Any:
    from core_runtime.client import Flow, FlowscopeNotFound, Step, Task, namespace

    flow = info.graph.flow_name
    parts = pathspec.strip("/").split("/")
    if not all(parts) or len(parts) > 3:
        raise UsageError("The PATHSPEC argument should be of the form 'stepname' Or '<runid>/<stepname>' "
                         "Or '<runid>/<stepname>/<taskid>'")
    try:
        if len(parts) == 1:
            run = Flow(flow).latest_run
            task = run[parts[0]].task if run is not None and parts[0] in run else None
        else:
            namespace(None)
            found = f"{flow}/{pathspec.strip('/')}"
            task = Step(found).task if len(parts) == 2 else Task(found)
    except FlowscopeNotFound:
        task = None
    if task is None:
        raise UsageError(f"No task found for {pathspec!r} in {flow}")
    return task


def _cards_of(task: Any) -> list[FoundCard]:
    out = []
    for card_id, typ, location, _size, _attempt, decorator_id in task._src.query(CARDS, (task._task_pk, task._task_pk)):
        out.append(FoundCard(task, card_id, typ, location, task._src.datastore().get(location), decorator_id))
    return out


def _matching(cmd: Any, task: Any) -> list[FoundCard]:
    cards = [c for c in _cards_of(task)
             if (cmd.option("type") is None or c.type == cmd.option("type"))
             and (cmd.option("id") is None or c.decorator_id == cmd.option("id"))
             and (cmd.option("hash") is None or c.hash.startswith(str(cmd.option("hash"))))]
    if not cards:
        wanted = ", ".join(f"{k}={cmd.option(k)}" for k in ("type", "id", "hash") if cmd.option(k))
        raise UsageError(f"No card found for {task.pathspec}" + (f" ({wanted})" if wanted else "")
                         + f": {CardNotPresentException.headline}")
    return cards


def _describe(cards: list[FoundCard], hint: str | None = None) -> None:
    print(f"Found {len(cards)} cards for {cards[0].task.pathspec}:")
    for c in cards:
        print(f"    Card Id: {c.decorator_id}\n    Card Type: {c.type}\n    Card Hash: {c.hash}\n"
              f"    Card Path: {c.location}\n")
    if hint:
        print(f"Pick one, e.g.: python {os.path.basename(sys.argv[0])} {hint}")


def _view(card: FoundCard) -> int:
    import webbrowser

    folder = tempfile.mkdtemp(prefix="flowscope-card-")
    path = os.path.join(folder, f"{card.card_id}.html")
    with open(path, "wb") as fh:
        fh.write(card.html)
    opened = False
    try:
        opened = webbrowser.open("file://" + path)
    except webbrowser.Error:
        opened = False
    print(("Opened " if opened else "No browser to open it here; the card is at ") + path)
    return 0


def _list(cmd: Any, info: FlowInfo, args: list[str]) -> int:
    from core_runtime.client import Flow, FlowscopeNotFound

    if len(args) > 1:
        raise UsageError(f"card list: unexpected argument {args[1]!r}")
    if args:
        groups = [_matching(cmd, _task(info, args[0]))]
    else:
        try:
            run = Flow(info.graph.flow_name).latest_run
        except FlowscopeNotFound:
            run = None
        if run is None:
            raise UsageError(f"No run of {info.graph.flow_name} found")
        groups = [found for step in run for task in step if (found := _cards_of(task))]
        if not groups:
            raise UsageError(f"No card found in {run.pathspec}: {CardNotPresentException.headline}")
    if cmd.option("as-json"):
        doc: Any = [{"pathspec": g[0].task.pathspec, "cards": [c.as_json() for c in g]} for g in groups]
        if args:
            doc = doc[0]
        text = json.dumps(doc, indent=4)
        if cmd.option("file"):
            with open(cmd.option("file"), "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            print(text)
        return 0
    for group in groups:
        _describe(group)
    return 0
