"""``tag add|remove|replace|list``: a run's user tags from the command line, as Metaflow's ``tag``.

    python flow.py tag add --run-id 12 reviewed best
    python flow.py tag replace --run-id 12 --remove best --add second-best
    python flow.py tag list [--run-id 12 | --all | --my-runs] [--group-by-tag | --group-by-run]

Changes go through the client (client/tags.py: Metaflow's rules, one UPDATE of the run row).
On a terminal user tags are shown in bold, system tags plainly (piped output is plain text, as
Metaflow prints it); only user tags can be changed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from core_runtime.cli.args import UsageError
from core_runtime.cli.flow_info import FlowInfo

WIDTH = 120


def tag_command(cmd: Any, info: FlowInfo) -> int:
    from core_runtime.client import FlowscopeTaggingError

    if not cmd.positional or cmd.positional[0] not in ("add", "remove", "replace", "list"):
        raise UsageError("tag needs a subcommand: tag add|remove|replace|list")
    sub, args = cmd.positional[0], cmd.positional[1:]
    try:
        if sub == "list":
            return _list(cmd, info, args)
        run = _run(cmd, info.graph.flow_name, cmd.option("run-id"))
        if sub == "add":
            _need(args, "tag add needs one or more tags: tag add --run-id ID TAG [TAG ...]")
            run.add_tags(args)
        elif sub == "remove":
            _need(args, "tag remove needs one or more tags: tag remove --run-id ID TAG [TAG ...]")
            run.remove_tags(args)
        else:
            if args:
                raise UsageError(f"tag replace takes its tags with --add and --remove, not {args[0]!r}")
            add, remove = cmd.options.get("add", []), cmd.options.get("remove", [])
            if not remove:
                raise UsageError("Specify at least one tag to remove (--remove); else use tag add.")
            if not add:
                raise UsageError("Specify at least one tag to add (--add); else use tag remove.")
            run.replace_tags(remove, add)
    except FlowscopeTaggingError as exc:
        raise UsageError(str(exc)) from None
    print("Operation successful. New tags:")
    _print_groups({run.pathspec: run.tags}, {run.pathspec: run.system_tags}, one_run=True)
    return 0


def _need(args: list[str], message: str) -> None:
    if not args:
        raise UsageError(message)


def _run(cmd: Any, flow: str, run_id: str | None) -> Any:
    from core_runtime.client import Flow, FlowscopeNamespaceMismatch, FlowscopeNotFound, Run, namespace
    from core_runtime.client.namespace import current_user

    ns = cmd.option("namespace") or f"user:{current_user()}"
    namespace(ns)
    if run_id is None:
        try:
            latest = Flow(flow).latest_run
        except FlowscopeNotFound:
            latest = None
        hint = (f" {flow}'s latest run in namespace {ns} is {latest.id}." if latest is not None else "")
        raise UsageError(f"Please specify a run-id using --run-id.{hint}")
    if "/" in run_id:
        raise UsageError(f"Run-id {run_id!r} is not a valid run-id")
    try:
        return Run(f"{flow}/{run_id}")
    except FlowscopeNamespaceMismatch:
        raise UsageError(f"Run {flow}/{run_id} does not belong to namespace {ns} "
                         "(use --namespace to pick another)") from None
    except FlowscopeNotFound:
        raise UsageError(f"No run {flow}/{run_id} found") from None


def _list(cmd: Any, info: FlowInfo, args: list[str]) -> int:
    from core_runtime.client import Flow, FlowscopeNotFound, namespace
    from core_runtime.client.namespace import current_user

    flow = info.graph.flow_name
    run_id = cmd.option("run-id")
    if run_id is not None and args:
        raise UsageError("Specify a run either using --run-id or as an argument but not both")
    run_id = run_id or (args[0] if args else None)
    list_all, mine = bool(cmd.option("all")), bool(cmd.option("my-runs"))
    by_tag, by_run, flat = bool(cmd.option("group-by-tag")), bool(cmd.option("group-by-run")), bool(cmd.option("flat"))
    hide_system = bool(cmd.option("hide-system-tags"))
    if list_all and mine:
        raise UsageError("Option --all cannot be used together with --my-runs.")
    if by_tag and by_run:
        raise UsageError("Option --group-by-tag cannot be used with --group-by-run")
    if flat and (by_tag or by_run):
        raise UsageError("Option --flat cannot be used with any --group-by-* option")
    if run_id is not None:
        runs = [_run(cmd, flow, run_id)]
    else:
        namespace(f"user:{current_user()}" if mine else None)
        try:
            runs = list(Flow(flow).runs())
        except FlowscopeNotFound:
            raise UsageError(f"Cannot list tags because the flow {flow} has never been run.") from None
    groups, system = _group(runs, by_tag=by_tag, by_run=by_run, hide_system=hide_system)
    if flat:   # one tag a line, on stderr as Metaflow's (hidden) --flat prints them
        for tag in sorted(set().union(*groups.values()) if groups else set()):
            _err(tag)
        return 0
    _print_groups(groups, system, by_tag=by_tag)
    return 0


def _group(runs: list[Any], *, by_tag: bool, by_run: bool,
           hide_system: bool) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(group -> every member, group -> system members); groups are runs, tags, or all runs at once."""
    shown: dict[str, set[str]] = {}
    system: dict[str, set[str]] = {}
    for run in runs:
        user_tags = set(run.tags) - set(run.system_tags)
        sys_tags = set() if hide_system else set(run.system_tags)
        if by_run:
            shown[run.pathspec] = user_tags | sys_tags
            system[run.pathspec] = sys_tags
        elif by_tag:
            for t in user_tags | sys_tags:
                shown.setdefault(t, set()).add(run.pathspec)
                if t in sys_tags:
                    system[t] = set()
        else:
            key = ",".join(r.pathspec for r in runs)
            shown.setdefault(key, set()).update(user_tags | sys_tags)
            system.setdefault(key, set()).update(sys_tags)
    return shown, system


def _print_groups(groups: dict[str, Any], system: dict[str, Any], *, by_tag: bool = False,
                  one_run: bool = False) -> None:
    bold = sys.stdout.isatty()
    print(f"\nSystem tags and {_user('tags', bold)}; only {_user('tags', bold)} can be modified\n"
          + "-" * 56 + "\n")
    for group in sorted(groups):
        if by_tag:
            print(f"For tag {group if group in system else _user(group, bold)}")
            _columns(sorted(groups[group]), set())
        else:
            if not one_run and len(groups) > 1:
                print(f"For run {group}")
            sys_tags = set(system.get(group, ()))
            _columns(sorted(groups[group]), set(groups[group]) - sys_tags if bold else set())
    sys.stdout.flush()


def _user(tag: str, bold: bool) -> str:
    return f"\033[1m{tag}\033[0m" if bold else tag


def _columns(words: Iterable[str], bold: set[str]) -> None:
    """Words in as many columns as fit in WIDTH, filled top to bottom; those in ``bold`` in bold."""
    items = list(words)
    if not items:
        print()
        return
    width = max(len(w) for w in items)
    n_cols = max(1, (WIDTH + 4) // (width + 4))
    n_rows = (len(items) + n_cols - 1) // n_cols
    for r in range(n_rows):
        row = [items[c * n_rows + r] for c in range(n_cols) if c * n_rows + r < len(items)]
        cells = [_user(w, w in bold) + " " * (width - len(w)) for w in row]
        print("    ".join(cells).rstrip())
    print()


def _err(text: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
