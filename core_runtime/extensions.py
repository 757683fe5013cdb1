"""Metaflow extension packages (``metaflow_extensions.<org>``), loaded into core_runtime.

Metaflow loads every ``metaflow_extensions`` package on ``sys.path`` when it is imported; so does
core_runtime, for the extension points a flow can see, with Metaflow's file conventions (one
``mfextinit_<name>.py`` per point and package):

* ``config``: its names become names of ``core_runtime.metaflow_config``;
* ``exceptions``: its names become names of ``core_runtime.exception``;
* ``plugins``: ``STEP_DECORATORS_DESC`` / ``FLOW_DECORATORS_DESC`` (``(name, ".module.Class")``)
  become decorators (``from core_runtime import name``, ``--with name``), and
  ``__mf_promote_submodules__`` makes ``core_runtime.plugins.<sub>`` the extension's module; a
  core_runtime module it replaces stays importable as ``core_runtime.plugins.<sub>._orig``;
* ``toplevel``: the module named by ``toplevel = "..."`` adds its names to ``core_runtime``;
* ``plugins.cards``: ``CARDS`` lists of card types (the point's module, or each sub-package of a
  namespace package), read by ``core_runtime.cards.card_types``.

An extension is written against core_runtime's classes (``core_runtime.decorators.StepDecorator``
…), just as a flow is: only its ``metaflow`` imports differ. A point that fails to load is a
warning on stderr and is skipped; it never stops ``import core_runtime``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import sys
import types
from dataclasses import dataclass
from typing import Any

EXT_PKG = "metaflow_extensions"
POINTS = ("plugins.cards", "plugins", "config", "exceptions", "toplevel")
_INIT_FILE = re.compile(r"^mfextinit_[A-Za-z0-9_-]+\.py$")


@dataclass(frozen=True)
class ExtModule:
    tl_package: str        # metaflow_extensions.<tl_package>
    point: str
    module: types.ModuleType


_found: dict[str, list[tuple[str, str]]] | None = None
_loaded: dict[str, list[ExtModule]] = {}


def _warn(message: str) -> None:
    sys.stderr.write(f"warning: Metaflow extension: {message}\n")


def _discover() -> dict[str, list[tuple[str, str]]]:
    """Point -> [(tl_package, module to import)], in sys.path order, each package once."""
    global _found
    if _found is not None:
        return _found
    _found = {p: [] for p in POINTS}
    try:
        spec = importlib.util.find_spec(EXT_PKG)
    except (ImportError, ValueError):
        spec = None
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    seen: set[str] = set()
    for root in roots:
        try:
            names = sorted(os.listdir(root))
        except OSError:
            continue
        for tl in names:
            if tl in seen or tl.startswith(("_", ".")) or not os.path.isdir(os.path.join(root, tl)):
                continue
            seen.add(tl)
            for point in POINTS:
                where = os.path.join(root, tl, *point.split("."))
                if not os.path.isdir(where):
                    continue
                inits = sorted(f for f in os.listdir(where) if _INIT_FILE.match(f))
                if len(inits) > 1:
                    _warn(f"{where} has more than one mfextinit_ file ({', '.join(inits)}); skipped")
                elif inits:
                    _found[point].append((tl, f"{EXT_PKG}.{tl}.{point}.{inits[0][:-3]}"))
                elif point == "plugins.cards":
                    _found[point].append((tl, f"{EXT_PKG}.{tl}.{point}"))
    return _found


def modules(point: str) -> list[ExtModule]:
    """The loaded modules of one extension point (imported once; failures warned and skipped)."""
    if point not in _loaded:
        out = []
        for tl, name in _discover()[point]:
            try:
                out.append(ExtModule(tl, point, importlib.import_module(name)))
            except Exception as exc:  # noqa: BLE001 - a broken extension must not break the import
                _warn(f"{name} cannot be imported: {type(exc).__name__}: {exc}")
        _loaded[point] = out
    return _loaded[point]


def public_names(module: types.ModuleType) -> dict[str, Any]:
    """What Metaflow copies from an extension module: names not starting with ``__``, no modules."""
    return {n: o for n, o in vars(module).items()
            if not n.startswith("__") and not isinstance(o, types.ModuleType)}


def load_into(point: str, target: types.ModuleType) -> None:
    for m in modules(point):
        for name, value in public_names(m.module).items():
            setattr(target, name, value)


# ---- module aliases (``__mf_promote_submodules__``) ---------------------------------------------

class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class _AliasFinder(importlib.abc.MetaPathFinder):
    """``core_runtime.plugins.x`` -> the extension's module; ``core_runtime.plugins.x._orig``
    (and its submodules, found on the original package's path) -> core_runtime's own."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.originals: dict[str, importlib.machinery.ModuleSpec] = {}

    def add(self, alias: str, target: str) -> None:
        try:
            orig = importlib.util.find_spec(alias) if alias not in sys.modules else sys.modules[alias].__spec__
        except (ImportError, ValueError):
            orig = None
        if orig is not None:
            self.originals[alias] = orig
        for loaded in [n for n in sys.modules if n == alias or n.startswith(alias + ".")]:
            del sys.modules[loaded]   # the replaced module and its submodules: found anew
        self.aliases[alias] = target

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname in self.aliases:
            return importlib.util.spec_from_loader(fullname, _AliasLoader(self.aliases[fullname]))
        base, _, last = fullname.rpartition(".")
        if last == "_orig" and base in self.originals:
            orig = self.originals[base]
            if orig.origin is None or orig.origin in ("namespace", "built-in"):
                return None
            return importlib.util.spec_from_file_location(
                fullname, orig.origin, submodule_search_locations=orig.submodule_search_locations)
        return None


_finder = _AliasFinder()


def _promote(m: ExtModule, base: str) -> None:
    """Alias ``base.<sub>`` to ``metaflow_extensions.<tl>.<point>.<sub>`` for each promoted sub."""
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    for sub in getattr(m.module, "__mf_promote_submodules__", None) or []:
        _finder.add(f"{base}.{sub}", f"{EXT_PKG}.{m.tl_package}.{m.point}.{sub}")


# ---- loading everything ------------------------------------------------------------------------

def _resolve(m: ExtModule, path: str) -> Any:
    module_path, _, cls_name = path.rpartition(".")
    if module_path.startswith("."):
        module_path = importlib.util.resolve_name(module_path, m.module.__package__ or "")
    return getattr(importlib.import_module(module_path), cls_name)


def _load_plugins(package_globals: dict[str, Any]) -> None:
    from core_runtime.decorators import FlowDecorator, StepDecorator, plugin_step_decorator
    from core_runtime.flow_decorators import plugin_flow_decorator

    for m in modules("plugins"):
        _promote(m, "core_runtime.plugins")
        for kind, base in (("STEP_DECORATORS_DESC", StepDecorator), ("FLOW_DECORATORS_DESC", FlowDecorator)):
            for name, path in getattr(m.module, kind, None) or []:
                try:
                    cls = _resolve(m, path)
                except Exception as exc:  # noqa: BLE001 - one broken plugin is skipped
                    _warn(f"{m.module.__name__}: {name} ({path}) cannot be loaded: {type(exc).__name__}: {exc}")
                    continue
                if not (isinstance(cls, type) and issubclass(cls, base)):
                    _warn(f"{m.module.__name__}: {name} ({path}) is not a subclass of "
                          f"core_runtime.decorators.{base.__name__}; skipped")
                    continue
                cls.name = name
                if issubclass(cls, StepDecorator):
                    package_globals[name] = plugin_step_decorator(cls)
                else:
                    package_globals[name] = plugin_flow_decorator(cls)


def _load_toplevel(package_globals: dict[str, Any]) -> None:
    for m in modules("toplevel"):
        name = getattr(m.module, "toplevel", None)
        if not name:
            continue
        full = f"{EXT_PKG}.{m.tl_package}.toplevel.{name}"
        try:
            module = importlib.import_module(full)
        except Exception as exc:  # noqa: BLE001 - a broken extension must not break the import
            _warn(f"{full} cannot be imported: {type(exc).__name__}: {exc}")
            continue
        package_globals.update(public_names(module))
        _promote(ExtModule(m.tl_package, "toplevel", module), "core_runtime")


def load_all(package_globals: dict[str, Any]) -> None:
    """Called at the end of ``core_runtime/__init__.py`` (as Metaflow loads its extensions)."""
    found = _discover()
    if not any(found.values()):
        return
    import core_runtime.exception
    import core_runtime.metaflow_config

    load_into("config", core_runtime.metaflow_config)
    load_into("exceptions", core_runtime.exception)
    _load_plugins(package_globals)
    _load_toplevel(package_globals)


def extension_cards() -> list[Any]:
    """The card types of the ``plugins.cards`` point, as Metaflow finds them."""
    import pkgutil

    from core_runtime.cards.card_types import MetaflowCard

    packages: list[types.ModuleType] = []
    for m in modules("plugins.cards"):
        if getattr(m.module, "__file__", None):
            packages.append(m.module)
            continue
        for info in pkgutil.iter_modules(m.module.__path__, m.module.__name__ + "."):
            if not info.ispkg:
                continue
            try:
                packages.append(importlib.import_module(info.name))
            except Exception as exc:  # noqa: BLE001 - one broken card package is skipped
                _warn(f"card package {info.name} cannot be imported: {type(exc).__name__}: {exc}")
    out: list[Any] = []
    for pkg in packages:
        cards = getattr(pkg, "CARDS", None)
        if not isinstance(cards, list):
            continue
        out.extend(c for c in cards
                   if isinstance(c, type) and issubclass(c, MetaflowCard) and getattr(c, "type", None))
    return out
