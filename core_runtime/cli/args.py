"""Parsing ``python flow.py [--config NAME FILE] COMMAND [ARGS] [--option value ...]``.

Hand-written rather than argparse so every mistake is reported as one line naming the
option, and so Parameters (declared on the flow class) become options dynamically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core_runtime.parameters import Parameter, ParameterError

COMMANDS = ("run", "resume", "spin", "show", "check", "logs", "dump", "tag", "card", "help")

# Options every command that runs tasks understands: name -> takes a value
RUN_OPTIONS = {"tag": True, "max-workers": True, "run-id-file": True, "quiet": False,
               "runner-attribute-file": True}
COMMAND_OPTIONS: dict[str, dict[str, bool]] = {
    "run": RUN_OPTIONS,
    "resume": {**RUN_OPTIONS, "origin-run-id": True},
    "spin": {"run-id": True, "quiet": False, "artifacts-module": True, "persist": False,
             "no-persist": False, "skip-decorators": False, "no-skip-decorators": False,
             "max-log-size": True, "run-id-file": True, "runner-attribute-file": True},
    "show": {},
    "check": {},
    "logs": {"stdout": False, "no-stdout": False, "stderr": False, "no-stderr": False, "both": False,
             "no-both": False, "timestamps": False, "no-timestamps": False, "attempt": True},
    "dump": {"private": False, "no-private": False, "max-value-size": True, "include": True, "file": True,
             "quiet": False},
    "tag": {"run-id": True, "namespace": True, "add": True, "remove": True, "all": False, "my-runs": False,
            "hide-system-tags": False, "group-by-tag": False, "group-by-run": False, "flat": False},
    # --follow-resumed is accepted: a resumed run's cloned tasks carry their cards already.
    "card": {"hash": True, "type": True, "id": True, "follow-resumed": False, "no-follow-resumed": False,
             "as-json": False, "file": True},
    "help": {},
}


class UsageError(ValueError):
    """Bad command-line input; printed as one line."""


@dataclass
class Command:
    name: str
    positional: list[str] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)      # attr -> parsed value
    configs: dict[str, str] = field(default_factory=dict)     # config name -> file
    help: bool = False

    def option(self, name: str, default: str | None = None) -> str | None:
        values = self.options.get(name)
        return values[-1] if values else default


def _param_lookup(params: list[Parameter]) -> dict[str, Parameter]:
    out: dict[str, Parameter] = {}
    for p in params:
        out[p.name] = p
        out[p.name.replace("_", "-")] = p
    return out


def parse_args(argv: list[str], params: list[Parameter]) -> Command:
    args = list(argv)
    configs: dict[str, str] = {}
    help_wanted = False
    # Global options before the command.
    while args and args[0].startswith("-"):
        tok = args.pop(0)
        if tok in ("--help", "-h"):
            help_wanted = True
        elif tok == "--config":
            if len(args) < 2:
                raise UsageError("--config needs a config name and a file: --config NAME FILE")
            configs[args.pop(0)] = args.pop(0)
        else:
            raise UsageError(f"unknown option {tok} before the command (commands: {', '.join(COMMANDS[:-1])})")
    if not args:
        return Command("help", configs=configs, help=True)
    name = args.pop(0)
    if name not in COMMANDS:
        raise UsageError(f"unknown command {name!r} (commands: {', '.join(COMMANDS[:-1])})")
    cmd = Command(name, configs=configs, help=help_wanted)
    known = COMMAND_OPTIONS[name]
    by_name = _param_lookup(params) if name == "run" else {}
    i = 0
    while i < len(args):
        tok = args[i]
        i += 1
        if tok in ("--help", "-h"):
            cmd.help = True
            continue
        if not tok.startswith("--"):
            cmd.positional.append(tok)
            continue
        key, eq, inline = tok[2:].partition("=")
        if key in known:
            if not known[key]:
                cmd.options.setdefault(key, []).append("true")
                continue
            if eq:
                value = inline
            elif i < len(args):
                value = args[i]
                i += 1
            else:
                raise UsageError(f"option --{key} needs a value")
            cmd.options.setdefault(key, []).append(value)
            continue
        param = by_name.get(key)
        negated = None
        if param is None and key.startswith("no-") and by_name.get(key[3:]) is not None \
                and by_name[key[3:]].type is bool:
            negated = by_name[key[3:]]
        if negated is not None:
            cmd.params[negated.attr] = False
            continue
        if param is None:
            choices = sorted({"--" + k for k in known} | {p.option for p in by_name.values()})
            raise UsageError(f"unknown option --{key} for {name!r}"
                             + (f" (options: {', '.join(choices)})" if choices else ""))
        if eq:
            raw = inline
        elif param.type is bool and (i >= len(args) or args[i].startswith("--")):
            raw = "true"
        elif i < len(args):
            raw = args[i]
            i += 1
        else:
            raise UsageError(f"parameter {param.option} needs a value ({param.type_name})")
        try:
            cmd.params[param.attr] = param.parse(raw)
        except ParameterError as exc:
            raise UsageError(str(exc)) from None
    return cmd


def resolve_parameters(cmd: Command, params: list[Parameter]) -> dict[str, Any]:
    """Values of every Parameter: given, or default; UsageError for a missing required one."""
    values: dict[str, Any] = {}
    for p in params:
        if p.attr in cmd.params:
            values[p.attr] = cmd.params[p.attr]
            continue
        if p.required:
            raise UsageError(f"missing required parameter {p.option} ({p.type_name}): {p.help}".rstrip(": "))
        values[p.attr] = p.default_value()
    return values
