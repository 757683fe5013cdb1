"""``logs`` and ``dump``: what the tasks of a step (or one task) printed, and the artifacts they
produced, read back through the client, with Metaflow's options.

    python flow.py logs 12/train [--stdout | --stderr] [--timestamps] [--attempt N]
    python flow.py dump 12/train/345 [--private] [--max-value-size 1000] [--include a,b] [--file F]

Headers go to stderr and the content to stdout, as Metaflow prints them, so ``> file`` keeps only
the content.
"""

from __future__ import annotations

import pickle
import sys
from typing import Any

from core_runtime.cli.args import UsageError
from core_runtime.cli.flow_info import FlowInfo


def _tasks(info: FlowInfo, input_path: str, command: str) -> list[Any]:
    from core_runtime.client import FlowscopeNotFound, Step, Task, namespace

    parts = input_path.strip("/").split("/") if input_path else []
    if len(parts) not in (2, 3) or not all(parts):
        raise UsageError(f"{command}: input_path should either be run_id/step_name or "
                         f"run_id/step_name/task_id, not {input_path!r}")
    namespace(None)     # a pathspec names one run: no namespace filter, as in Metaflow
    flow = info.graph.flow_name
    try:
        if len(parts) == 3:
            return [Task(f"{flow}/{input_path.strip('/')}")]
        return list(Step(f"{flow}/{input_path.strip('/')}"))
    except FlowscopeNotFound:
        return []


def _header(text: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def logs_command(cmd: Any, info: FlowInfo) -> int:
    args = list(cmd.positional)
    if args and args[0] == "show":
        args = args[1:]
    elif args and args[0] == "scrub":
        raise UsageError("logs scrub is not supported: Flowscope keeps log chunks immutable (the UI "
                         "caches them as such); see docs/runtime.md")
    if len(args) != 1:
        raise UsageError("logs needs one input path: logs RUN_ID/STEP[/TASK_ID]")
    streams = _streams(cmd)
    attempt = _int_option(cmd, "attempt")
    tasks = _tasks(info, args[0], "logs")
    if not tasks:
        raise UsageError("No Tasks found at the given path -- either none exist or none have started yet")
    stamps = bool(cmd.option("timestamps")) and not cmd.option("no-timestamps")
    for task in tasks:
        run_id, step, task_id = task.pathspec.split("/")[1:]
        _header(f"Dumping logs of run_id={run_id} step={step} task_id={task_id}")
        for stream in streams:
            _header(stream)
            for ts, text in task.loglines(stream, attempt):
                stamp = ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " " if stamps and ts is not None else ""
                print(stamp + text)
    sys.stdout.flush()
    return 0


def _streams(cmd: Any) -> list[str]:
    """--stdout / --stderr pick one (or both if both are given); else both, as --both says."""
    picked = [s for s in ("stdout", "stderr") if cmd.option(s) and not cmd.option(f"no-{s}")]
    if picked:
        return picked
    if cmd.option("no-both") and not cmd.option("both"):
        return []
    return ["stdout", "stderr"]


def _int_option(cmd: Any, name: str) -> int | None:
    raw = cmd.option(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise UsageError(f"invalid value {raw!r} for --{name}: expected a whole number") from None


def dump_command(cmd: Any, info: FlowInfo) -> int:
    if len(cmd.positional) != 1:
        raise UsageError("dump needs one input path: dump RUN_ID/STEP[/TASK_ID]")
    private = bool(cmd.option("private")) and not cmd.option("no-private")
    max_size = _int_option(cmd, "max-value-size")
    max_size = 1000 if max_size is None else max_size
    include = {t for t in (cmd.option("include") or "").split(",") if t}
    file = cmd.option("file")
    tasks = _tasks(info, cmd.positional[0], "dump")
    if not tasks:
        raise UsageError(f"dump: no task at {info.graph.flow_name}/{cmd.positional[0]}")
    quiet = cmd.quiet
    to_file: dict[str, dict[str, Any]] = {}
    for task in tasks:
        run_id, step, task_id = task.pathspec.split("/")[1:]
        if not quiet:
            _header(f"Dumping output of run_id={run_id} step={step} task_id={task_id}")
        shown = [a for a in task.artifacts
                 if (private or not a.id.startswith("_")) and (not include or a.id in include)]
        if file is not None:
            to_file[f"{run_id}/{step}/{task_id}"] = {a.id: a.data for a in shown}   # Metaflow's keys
            continue
        for a in sorted(shown, key=lambda a: a.id):
            value = a.data if 0 < int(a.size or 0) <= max_size else "< artifact too large >"
            print(f"{a.id} [size: {a.size} type: {a.type}] = {value}")
    if file is not None:
        with open(file, "wb") as fh:
            pickle.dump(to_file, fh, protocol=pickle.HIGHEST_PROTOCOL)
        if not quiet:
            _header(f"Artifacts written to {file}")
    sys.stdout.flush()
    return 0
