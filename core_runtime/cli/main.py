"""Entry point: ``MyFlow()`` at the bottom of a flow file calls ``main(MyFlow, sys.argv[1:])``.

Every user-facing error (bad option, graph lint error, unreachable database, bad config) is
printed as one line on stderr with a non-zero exit code, before anything is recorded.
"""

from __future__ import annotations

import sys
from typing import Any

from core_runtime.cli.args import UsageError, parse_args
from core_runtime.cli.flow_info import FlowInfo, load_flow_info
from core_runtime.parameters import flow_parameters


class CliError(Exception):
    """A user error to print as one line."""


def _fail(message: str, code: int = 1) -> int:
    sys.stdout.flush()
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
    return code


def user_errors() -> tuple[type[BaseException], ...]:
    from contract.datastore import DatastoreError
    from contract.pg import DatabaseError
    from contract.settings import SettingsError
    from core_runtime.artifacts import ArtifactError
    from core_runtime.config import ConfigError
    from core_runtime.config_expr import ConfigExprError
    from core_runtime.decorators import DecoratorError
    from core_runtime.environments.build import EnvironmentBuildError
    from core_runtime.exception import MetaflowException
    from core_runtime.graph import GraphError
    from core_runtime.parameters import ParameterError
    from core_runtime.store import StoreError

    return (UsageError, CliError, GraphError, DatabaseError, ConfigError, ParameterError,
            SettingsError, DatastoreError, StoreError, ArtifactError, DecoratorError, EnvironmentBuildError,
            ConfigExprError, MetaflowException)


def _database_errors() -> tuple[type[BaseException], ...]:
    import psycopg2

    return (psycopg2.Error,)


def main(flow_cls: type, argv: list[str]) -> int:
    if argv[:1] == ["_task"]:
        # Internal: one task attempt inside a @pypi/@conda environment (environments/launch.py).
        from core_runtime.environments.launch import task_main

        return task_main(flow_cls, argv[1:])

    from core_runtime.flow_decorators import flow_options
    from core_runtime.user_decorators import apply_mutators

    errors = user_errors()
    try:
        apply_mutators(flow_cls)
        cmd = parse_args(argv, flow_parameters(flow_cls), flow_options(flow_cls))
        if cmd.decospecs:
            from core_runtime.cli.decospecs import apply_decospecs

            apply_decospecs(flow_cls, cmd.decospecs)
        if cmd.help or cmd.name == "help":
            from core_runtime.cli.help import render_help

            sys.stdout.write(render_help(flow_cls, load_flow_info(flow_cls, lint_graph=False)))
            return 0
        info = load_flow_info(flow_cls, lint_graph=cmd.name != "show")
        return _dispatch(cmd, info)
    except errors as exc:
        # A malformed command line exits 2 (CommandLineError), as click's usage errors do in Metaflow.
        return _fail(str(exc), getattr(exc, "exit_code", 1))
    except _database_errors() as exc:
        # The database went away in the middle of a run: say so in one line, not a traceback.
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return _fail(f"database error during the run: {first}")
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (``python flow.py tag list | head``): stop quietly, like a shell tool.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _client_command(cmd: Any, info: FlowInfo) -> int:
    """Commands that read (or, for tags, change) recorded runs through the client."""
    from core_runtime.cli.card_cmd import card_command
    from core_runtime.cli.tag_cmd import tag_command
    from core_runtime.cli.task_output_cmds import dump_command, logs_command
    from core_runtime.client import FlowscopeClientError

    command = {"logs": logs_command, "dump": dump_command, "tag": tag_command, "card": card_command}[cmd.name]
    if not cmd.quiet:
        # Metaflow's first line on stderr for every command (scripts that read stderr skip it).
        from contract.settings import load_settings
        from core_runtime.user import username

        sys.stderr.write(f"core_runtime executing {info.graph.flow_name} for user:{username(load_settings())}\n")
    try:
        return command(cmd, info)
    except FlowscopeClientError as exc:
        raise CliError(str(exc)) from None


def _dispatch(cmd: Any, info: FlowInfo) -> int:
    if cmd.name == "show":
        from core_runtime.graph import render_show

        sys.stdout.write(render_show(info.graph).rstrip("\n") + "\n")
        return 0
    if cmd.name == "check":
        print(f"The graph of {info.graph.flow_name} ({info.file}) looks good: "
              f"{len(info.graph.steps)} steps.")
        return 0
    if cmd.name == "run":
        from core_runtime.cli.run_cmd import run_command

        return run_command(cmd, info)
    if cmd.name == "resume":
        from core_runtime.cli.run_cmd import resume_command

        return resume_command(cmd, info)
    if cmd.name == "spin":
        from core_runtime.cli.spin_cmd import spin_command

        return spin_command(cmd, info)
    if cmd.name in ("logs", "dump", "tag", "card"):
        return _client_command(cmd, info)
    raise UsageError(f"unknown command {cmd.name!r}")
