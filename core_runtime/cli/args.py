"""Parsing ``python flow.py [TOP OPTIONS] COMMAND [ARGS] [--option value ...]``.

Hand-written rather than argparse so every mistake is reported as one line naming the
option, and so Parameters (declared on the flow class) become options dynamically. Options
take ``--name value`` or ``--name=value``. As in Metaflow, a top-level option not given on the
command line is read from ``METAFLOW_<NAME>`` (``--branch`` from ``METAFLOW_BRANCH``), and a
parameter from ``METAFLOW_RUN_<NAME>``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core_runtime.parameters import Parameter, ParameterContext, ParameterError, env_var

COMMANDS = ("run", "resume", "spin", "show", "check", "logs", "dump", "tag", "card", "help")

# Top-level options (before the command): name -> (takes a value, allowed values or None).
# Those Metaflow uses to pick its metadata provider, datastore, environment, logger and monitor
# are accepted so command lines written for Metaflow work; core_runtime always records into its
# Postgres and FLOWSCOPE_DATASTORE (docs/runtime.md says so).
TOP_OPTIONS: dict[str, tuple[bool, tuple[str, ...] | None]] = {
    "quiet": (False, None), "not-quiet": (False, None),
    "metadata": (True, ("local", "service")),
    "datastore": (True, ("local", "s3", "azure", "gs")),
    "datastore-root": (True, None),
    "environment": (True, ("local", "conda", "pypi", "uv")),
    "event-logger": (True, None), "monitor": (True, None),
    "package-suffixes": (True, None),
    "pylint": (False, None), "no-pylint": (False, None),
    "force-rebuild-environments": (False, None), "no-force-rebuild-environments": (False, None),
    "with": (True, None),
}

# Options every command that runs tasks understands: name -> takes a value
# (``--quiet`` is only a top-level option, as in Metaflow: ``run --quiet`` is an unknown option.)
RUN_OPTIONS = {"tag": True, "max-workers": True, "max-num-splits": True, "max-log-size": True,
               "run-id-file": True, "with": True, "runner-attribute-file": True}
COMMAND_OPTIONS: dict[str, dict[str, bool]] = {
    # --namespace: the client namespace of the run's own process and its tasks (Metaflow's
    # ``run --namespace``; empty = global); the run's tags are not changed.
    "run": {**RUN_OPTIONS, "namespace": True},
    # --run-id: the new run's ID (Metaflow's hidden option, which its Runner passes for run_id=).
    "resume": {**RUN_OPTIONS, "origin-run-id": True, "run-id": True, "clone-only": False, "reentrant": False},
    "spin": {"run-id": True, "artifacts-module": True, "persist": False,
             "no-persist": False, "skip-decorators": False, "no-skip-decorators": False,
             "max-log-size": True, "run-id-file": True, "runner-attribute-file": True},
    "show": {},
    "check": {},
    "logs": {"stdout": False, "no-stdout": False, "stderr": False, "no-stderr": False, "both": False,
             "no-both": False, "timestamps": False, "no-timestamps": False, "attempt": True},
    "dump": {"private": False, "no-private": False, "max-value-size": True, "include": True, "file": True},
    "tag": {"run-id": True, "namespace": True, "add": True, "remove": True, "all": False, "my-runs": False,
            "hide-system-tags": False, "group-by-tag": False, "group-by-run": False, "flat": False},
    # --follow-resumed is accepted: a resumed run's cloned tasks carry their cards already.
    "card": {"hash": True, "type": True, "id": True, "follow-resumed": False, "no-follow-resumed": False,
             "as-json": False, "file": True},
    "help": {},
}


class UsageError(ValueError):
    """Bad command-line input; printed as one line."""

    exit_code = 1


class CommandLineError(UsageError):
    """The command line itself is malformed (unknown command or option, a value of the wrong type,
    a missing required parameter): exit code 2, as Metaflow's click-based CLI gives a usage error."""

    exit_code = 2


@dataclass
class Command:
    name: str
    positional: list[str] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)      # attr -> parsed value
    configs: dict[str, str] = field(default_factory=dict)     # config name -> file
    config_values: dict[str, str] = field(default_factory=dict)   # config name -> value text
    top: dict[str, list[str]] = field(default_factory=dict)   # top-level options given
    help: bool = False

    def option(self, name: str, default: str | None = None) -> str | None:
        values = self.options.get(name)
        return values[-1] if values else default

    def top_option(self, name: str, default: str | None = None) -> str | None:
        values = self.top.get(name)
        return values[-1] if values else default

    @property
    def quiet(self) -> bool:
        return "quiet" in self.top and "not-quiet" not in self.top

    @property
    def decospecs(self) -> list[str]:
        return list(self.top.get("with", [])) + list(self.options.get("with", []))


def _param_lookup(params: list[Parameter]) -> dict[str, Parameter]:
    # As click declares them in Metaflow: ``--`` + the name exactly (``--learning_rate`` for
    # ``Parameter("learning_rate")``; the other separator, or an abbreviation, is an unknown option).
    return {p.name: p for p in params}


def _take_value(key: str, inline: str, has_eq: bool, args: list[str], i: int) -> tuple[str, int]:
    if has_eq:
        return inline, i
    if i < len(args):
        return args[i], i + 1
    raise CommandLineError(f"option --{key} needs a value")


def _parse_top(args: list[str], extra: dict[str, bool], cmd: Command) -> list[str]:
    """Consume the options before the command; return the rest."""
    known = {k: v[0] for k, v in TOP_OPTIONS.items()} | extra
    i = 0
    while i < len(args) and args[i].startswith("-"):
        tok = args[i]
        i += 1
        if tok in ("--help", "-h"):
            cmd.help = True
            continue
        key, eq, inline = tok[2:].partition("=") if tok.startswith("--") else (tok, "", "")
        if key in ("config", "config-value"):
            if eq or i + 1 >= len(args):
                raise CommandLineError(f"--{key} needs a config name and a "
                                 f"{'file' if key == 'config' else 'value'}: --{key} NAME "
                                 f"{'FILE' if key == 'config' else 'VALUE'}")
            target = cmd.configs if key == "config" else cmd.config_values
            target[args[i]] = args[i + 1]
            i += 2
            continue
        if key not in known:
            raise CommandLineError(f"unknown option {tok.split('=')[0]} before the command "
                             f"(commands: {', '.join(COMMANDS[:-1])})")
        if not known[key]:
            cmd.top.setdefault(key, []).append("true")
            continue
        value, i = _take_value(key, inline, bool(eq), args, i)
        choices = TOP_OPTIONS.get(key, (True, None))[1]
        if choices is not None and value not in choices:
            raise CommandLineError(f"invalid value {value!r} for --{key} (choices: {', '.join(choices)})")
        cmd.top.setdefault(key, []).append(value)
    return args[i:]


def top_option_env(cmd: Command, extra: Mapping[str, bool], environ: Mapping[str, str]) -> None:
    """Fill the flow decorators' top-level options not given on the command line from METAFLOW_<NAME>."""
    for key, takes_value in extra.items():
        if key in cmd.top:
            continue
        raw = environ.get("METAFLOW_" + key.upper().replace("-", "_"))
        if raw is None or raw == "":
            continue
        if takes_value:
            cmd.top[key] = [raw]
        elif raw.strip().lower() in ("1", "true", "yes", "on"):
            cmd.top[key] = ["true"]


def parse_args(argv: list[str], params: list[Parameter],
               flow_options: dict[str, bool] | None = None) -> Command:
    cmd = Command("help")
    extra = dict(flow_options or {})
    args = _parse_top(list(argv), extra, cmd)
    top_option_env(cmd, extra, os.environ)
    if not args:
        cmd.help = True
        return cmd
    name = args.pop(0)
    if name not in COMMANDS:
        raise CommandLineError(f"unknown command {name!r} (commands: {', '.join(COMMANDS[:-1])})")
    cmd.name = name
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
        if key in known or (key.startswith("no-") and known.get(key[3:]) is False):
            if key not in known:
                cmd.options.pop(key[3:], None)
                continue
            if not known[key]:
                cmd.options.setdefault(key, []).append("true")
                continue
            value, i = _take_value(key, inline, bool(eq), args, i)
            cmd.options.setdefault(key, []).append(value)
            continue
        param = by_name.get(key)
        if param is None:
            choices = sorted({"--" + k for k in known} | {p.option for p in by_name.values()})
            raise CommandLineError(f"unknown option --{key} for {name!r}"
                             + (f" (options: {', '.join(choices)})" if choices else ""))
        if eq:
            raw = inline
        elif param.is_flag:     # Parameter(..., is_flag=True): click's flag, takes no value
            raw = "true"
        elif i < len(args):
            raw = args[i]
            i += 1
        else:
            raise CommandLineError(f"parameter {param.option} needs a value ({param.type_name})")
        try:
            cmd.params[param.attr] = param.parse(raw)
        except ParameterError as exc:
            raise CommandLineError(str(exc)) from None
    return cmd


def resolve_parameters(cmd: Command, params: list[Parameter], *, flow_cls: type | None = None,
                       ctx: ParameterContext | None = None,
                       environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Values of every Parameter: given, from METAFLOW_RUN_<NAME>, or the default.

    UsageError for a missing required parameter or a value that cannot be used.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for p in params:
        try:
            if p.attr in cmd.params:
                values[p.attr] = cmd.params[p.attr]
                continue
            raw = env.get(env_var(p.name))
            if raw is not None:
                values[p.attr] = p.parse(raw, env_var(p.name))
                continue
            if p.required:
                raise CommandLineError(f"missing required parameter {p.option} ({p.type_name}): {p.help}".rstrip(": "))
            if ctx is not None:
                ctx.parameter_name = p.name
            values[p.attr] = p.default_value(ctx, flow_cls)
        except ParameterError as exc:
            raise CommandLineError(str(exc)) from None
    return values
