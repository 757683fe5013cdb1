"""Config: a read-only value fixed before the flow runs, usable in decorators and steps.

``cfg = Config("cfg", default="config.json")`` — where the value comes from, first match wins:

1. the command line, before the command: ``--config cfg FILE`` or ``--config-value cfg JSON``
   (giving both for one config is an error);
2. the environment: ``METAFLOW_FLOW_CONFIG='{"cfg": "FILE"}'`` or
   ``METAFLOW_FLOW_CONFIG_VALUE='{"cfg": {...}}'``;
3. ``default=`` (a file, or a function of a ParameterContext returning one);
4. ``default_value=`` (a dict, a JSON string, or a function of a ParameterContext).

File text is parsed by ``parser=`` (a function, or its dotted name: ``"pkg.module.func"``,
``".config_parsers.yaml_parser"`` for ours, or Metaflow's parser names), else as TOML for
``*.toml`` and JSON otherwise. Files are found next to the flow file, then in the working
directory. The value is read on first use — while the class body runs if a decorator uses it
(``@retry(times=cfg.retries)``) — so it is an ordinary value there, and in steps
(``self.cfg.key``, ``self.cfg["key"]``); it is recorded as an artifact of every task.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

try:  # Python 3.11+
    import tomllib
except ImportError:  # pragma: no cover
    tomllib = None  # type: ignore[assignment]


class ConfigError(ValueError):
    """A config file is missing or unreadable; the message names the file (and line if known)."""

    # Metaflow resolves Configs while click parses the command line: a bad one is a usage error.
    exit_code = 2


class ConfigValue(dict):  # type: ignore[type-arg]
    """A read-only mapping whose keys are also attributes (``cfg.model.lr``).

    Any attempt to change it raises TypeError, as Metaflow's does; it compares equal to the
    plain dict it was made from and pickles as one.
    """

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        dict.__init__(self, {k: _wrap(v) for k, v in (data or {}).items()})

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r} (keys: {', '.join(map(str, self)) or 'none'})") from None

    def _immutable(self, *_args: Any, **_kwargs: Any) -> Any:
        raise TypeError("config values are read-only")

    __setattr__ = __setitem__ = __delattr__ = __delitem__ = _immutable
    clear = update = setdefault = pop = popitem = _immutable

    def __reduce__(self) -> Any:
        return (ConfigValue, (self.to_dict(),))

    def __copy__(self) -> ConfigValue:
        return ConfigValue(self.to_dict())

    def __deepcopy__(self, memo: dict[int, Any]) -> ConfigValue:
        return ConfigValue(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return {k: _plain(v) for k, v in self.items()}


def _wrap(value: Any) -> Any:
    if isinstance(value, ConfigValue):
        return value
    if isinstance(value, Mapping):
        return ConfigValue(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_wrap(v) for v in value)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _argv_sources(argv: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(files, values) given as ``--config NAME FILE`` / ``--config-value NAME VALUE`` before the command."""
    from core_runtime.cli.args import COMMANDS

    files: dict[str, str] = {}
    values: dict[str, str] = {}
    i = 0
    while i < len(argv) and argv[i] not in COMMANDS:
        tok = argv[i]
        if tok in ("--config", "--config-value") and i + 2 < len(argv):
            (files if tok == "--config" else values)[argv[i + 1]] = argv[i + 2]
            i += 3
            continue
        i += 1
    return files, values


def _env_sources(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for var in ("METAFLOW_FLOW_CONFIG", "METAFLOW_FLOW_CONFIG_VALUE"):
        raw = environ.get(var)
        if not raw:
            out.append({})
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{var} is not valid JSON: {exc.msg}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{var} must be a JSON object of config name -> "
                              f"{'file' if var == 'METAFLOW_FLOW_CONFIG' else 'value'}")
        out.append(data)
    return out[0], out[1]


def parse_config_text(text: str, path: str) -> Any:
    if path.endswith(".toml"):
        if tomllib is None:  # pragma: no cover
            raise ConfigError(f"{path}: TOML needs Python 3.11+")
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None


def find_parser(parser: str | Callable[[str], Any]) -> Callable[[str], Any]:
    """A parser function, from itself or its dotted name (see core_runtime.config_parsers)."""
    if callable(parser):
        return parser
    from core_runtime.config_parsers import BY_NAME

    if parser in BY_NAME:
        return BY_NAME[parser]
    name = "core_runtime" + parser if parser.startswith(".") else parser
    module_name, _, func = name.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), func, None) if module_name else None
    except ImportError as exc:
        raise ConfigError(f"config parser {parser!r}: cannot import {module_name}: {exc}") from None
    if not callable(found):
        raise ConfigError(f"config parser {parser!r} names no function")
    return found  # type: ignore[no-any-return]


class Config(Mapping):  # type: ignore[type-arg]
    """Declared in the flow class body; see the module docstring for where the value comes from."""

    IS_CONFIG_PARAMETER = True

    def __init__(self, name: str, default: str | Callable[..., str] | None = None,
                 default_value: Any = None, help: str | None = None, required: bool | None = None,
                 parser: str | Callable[[str], Any] | None = None, plain: bool = False,
                 **_kwargs: Any) -> None:
        if default is not None and default_value is not None:
            raise ConfigError(f"config {name!r}: give default (a file) or default_value, not both")
        self.name = name
        self.default = default
        self.default_value = default_value
        self.help = help or ""
        self.required = bool(required)
        self.parser = parser
        self.plain = plain
        self.attr = name
        self.owner: type | None = None
        caller = sys._getframe(1).f_globals.get("__file__")
        self._base_dir = Path(caller).resolve().parent if caller else Path.cwd()
        self._value: Any = None
        self._loaded = False
        self.path: str | None = None
        self.source = "default"

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr
        self.owner = owner

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return self.value

    def __set__(self, obj: Any, value: Any) -> None:
        raise AttributeError(f"Config {self.name!r} is read-only")

    # The class body may use the config directly: cfg.key, cfg["key"], **cfg.
    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return getattr(self.value, key)

    def __getitem__(self, key: str) -> Any:
        return self.value[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.value or {})

    def __len__(self) -> int:
        return len(self.value or {})

    def __repr__(self) -> str:
        return f"Config({self.name!r})"

    @property
    def value(self) -> Any:
        if not self._loaded:
            self._value = self._load()
            self._loaded = True
        return self._value

    def _resolve(self, given: str) -> Path:
        p = Path(given)
        if p.is_absolute():
            return p
        near_flow = self._base_dir / p
        return near_flow if near_flow.exists() else Path.cwd() / p

    def _context(self) -> Any:
        from core_runtime.parameters import ParameterContext

        return ParameterContext(flow_name=getattr(self.owner, "__name__", None),
                                parameter_name=self.name)

    def _finish(self, data: Any, where: str) -> Any:
        if self.plain or data is None:
            return data
        if not isinstance(data, Mapping):
            raise ConfigError(f"config {self.name!r} from {where}: expected a mapping, "
                              f"got {type(data).__name__}")
        return ConfigValue(data)

    def _parse(self, text: str, where: str) -> Any:
        if self.parser is not None:
            try:
                return find_parser(self.parser)(text)
            except ConfigError:
                raise
            except Exception as exc:  # noqa: BLE001 - a user parser may raise anything
                raise ConfigError(f"config {self.name!r}: the parser failed on {where}: "
                                  f"{type(exc).__name__}: {exc}") from None
        if self.plain:
            return text
        return parse_config_text(text, where)

    def _read_file(self, given: str) -> Any:
        path = self._resolve(given)
        self.path = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"config {self.name!r}: cannot read {path}: {exc.strerror}") from None
        return self._parse(text, str(path))

    def _load(self) -> Any:
        files, values = _argv_sources(sys.argv[1:])
        env_files, env_values = _env_sources(os.environ)
        if self.name in files and self.name in values:
            raise ConfigError(f"config {self.name!r}: give --config or --config-value, not both")
        if self.name in values:
            self.source = "--config-value"
            where = f"--config-value {self.name}"
            return self._finish(self._parse(values[self.name], where), where)
        if self.name in files:
            self.source = "--config"
            return self._finish(self._read_file(files[self.name]), files[self.name])
        if self.name in env_values:
            self.source = "METAFLOW_FLOW_CONFIG_VALUE"
            raw = env_values[self.name]
            data = self._parse(raw, f"METAFLOW_FLOW_CONFIG_VALUE[{self.name}]") if isinstance(raw, str) else raw
            return self._finish(data, "METAFLOW_FLOW_CONFIG_VALUE")
        if self.name in env_files:
            self.source = "METAFLOW_FLOW_CONFIG"
            return self._finish(self._read_file(str(env_files[self.name])), str(env_files[self.name]))
        default = self.default(self._context()) if callable(self.default) else self.default
        if default is not None:
            return self._finish(self._read_file(str(default)), str(default))
        given = self.default_value
        if callable(given):
            given = given(self._context())
        if isinstance(given, str):
            given = self._parse(given, f"the default value of config {self.name!r}")
        if given is None and self.required:
            raise ConfigError(f"config {self.name!r} is required: pass --config {self.name} FILE "
                              f"or --config-value {self.name} JSON")
        return self._finish(given, "default_value")


def flow_configs(cls: type) -> list[Config]:
    seen: dict[str, Config] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, Config):
                seen[attr] = value
    return list(seen.values())


def config_values(cls: type) -> dict[str, Any]:
    """Config values by name (and by attribute), the names a config_expr can use."""
    out: dict[str, Any] = {}
    for c in flow_configs(cls):
        out[c.attr] = c.value
        out[c.name] = c.value
    return out
