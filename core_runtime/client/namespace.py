"""Namespaces with Metaflow's semantics: a run is visible when its tags or system tags contain the
current namespace; ``None`` is the global namespace; the default is ``user:<current user>``
(FLOWSCOPE_USER, else METAFLOW_USER, else the login name)."""

from __future__ import annotations

from core_runtime.client.context import current_settings

_UNSET = object()
_current: object = _UNSET


def default_namespace() -> str:
    """Reset to, and return, the default namespace ``user:<user>`` (FLOWSCOPE_USER or the login)."""
    global _current
    _current = f"user:{current_user()}"
    return str(_current)


def current_user() -> str:
    from core_runtime.user import username

    return username(current_settings())


def namespace(ns: str | None) -> str | None:
    """Switch namespace: ``'user:bob'``, ``'project:x'``, any tag, or None for every run."""
    global _current
    _current = ns
    return ns


def get_namespace() -> str | None:
    if _current is _UNSET:
        return default_namespace()
    return None if _current is None else str(_current)
