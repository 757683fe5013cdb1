"""``python flow.py --help``: commands, and the flow's Parameters with their help text."""

from __future__ import annotations

import os
from typing import Any


def render_help(flow_cls: type, info: Any) -> str:
    name = os.path.basename(info.file)
    lines = [f"Usage: python {name} [--config NAME FILE] COMMAND [OPTIONS]", ""]
    doc = (flow_cls.__doc__ or "").strip()
    if doc:
        lines += [f"{flow_cls.__name__}: {doc.splitlines()[0]}", ""]
    lines += [
        "Commands:",
        "  run      Run the flow: run [--PARAM VALUE ...] [--tag TAG] [--max-workers N]",
        "  resume   Re-run from the failed (or given) step of an earlier run, cloning the rest:",
        "           resume [STEP] [--origin-run-id ID]",
        "  spin     Run one step with the inputs its parents produced in a past run (nothing is",
        "           recorded): spin STEP|RUN/STEP|RUN/STEP/TASK [--artifacts-module FILE]",
        "           [--persist] [--skip-decorators]; read --persist results with inspect_spin",
        "  show     Print the steps of the flow with their docstrings",
        "  check    Check the flow's graph for mistakes",
        "  logs     Print a task's output: logs RUN/STEP[/TASK] [--stdout|--stderr] [--timestamps]",
        "           [--attempt N]",
        "  dump     Print a task's artifacts: dump RUN/STEP[/TASK] [--private] [--max-value-size N]",
        "           [--include A,B] [--file PATH]",
        "  tag      A run's tags: tag add|remove --run-id ID TAG...; tag replace --run-id ID",
        "           --remove OLD --add NEW; tag list [--run-id ID|--all|--my-runs] [--group-by-tag]",
        "  card     A task's cards: card get|view STEP|RUN/STEP[/TASK] [PATH] [--id ID] [--type T]",
        "           [--hash H]; card list [PATHSPEC] [--as-json] [--file PATH]",
        "",
        "Options of run and resume:",
        "  --tag TAG             Add a tag to the run (repeatable)",
        "  --max-workers N       Tasks run in parallel (default 16)",
        "  --run-id-file PATH    Write the new run's id to PATH",
        "",
    ]
    if info.parameters:
        lines.append("Parameters (options of run):")
        for p in info.parameters:
            left = f"  {p.option} {p.type_name.upper()}"
            extra = []
            if p.required:
                extra.append("required")
            elif p.show_default and p.default is not None:
                extra.append(f"default: {p.default!r}")
            text = p.help + (f" [{'; '.join(extra)}]" if extra else "")
            lines.append(f"{left:<28}{text}".rstrip())
        lines.append("")
    _flow_decorator_options(flow_cls, lines)
    if info.configs:
        lines.append("Configs (before the command: --config NAME FILE):")
        for c in info.configs:
            lines.append(f"  {c.name:<26}{c.help} [default: {c.default or 'none'}]".rstrip())
        lines.append("")
    return "\n".join(lines)


_BUILTIN_HELP = {("project", "branch"): "run on this branch of the project (test.<branch>)",
                 ("project", "production"): "a production run of the project (branch prod)"}


def _flow_decorator_options(flow_cls: type, lines: list[str]) -> None:
    """Top-level options that flow decorators add (@project's --branch, an extension's own)."""
    from core_runtime.flow_decorators import flow_decorators

    decos = [d for d in flow_decorators(flow_cls) if d.options]
    if not decos:
        return
    lines.append("Options of the flow's decorators (before the command; else METAFLOW_<NAME>):")
    for d in decos:
        described = dict(getattr(type(d.plugin), "options", None) or {}) if d.plugin is not None else {}
        for opt, takes_value in d.options.items():
            left = f"  --{opt}" + (" VALUE" if takes_value else "")
            text = str((described.get(opt) or {}).get("help") or _BUILTIN_HELP.get((d.name, opt), ""))
            lines.append(f"{left:<28}{text} [@{d.name}]")
    lines.append("")
