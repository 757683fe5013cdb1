"""Client errors. They are Metaflow's MetaflowNotFound / MetaflowNamespaceMismatch too, so code
written against Metaflow's client catches them."""

from __future__ import annotations

from core_runtime.exception import MetaflowException, MetaflowNamespaceMismatch, MetaflowNotFound


class FlowscopeNotFound(MetaflowNotFound, LookupError):
    """The flow, run, step, task or artifact does not exist (the message names the pathspec)."""


class FlowscopeKeyNotFound(FlowscopeNotFound, KeyError):
    """``run["nope"]``, ``task["nope"]``: not found, and a KeyError as in Metaflow's client."""

    def __str__(self) -> str:
        return MetaflowException.__str__(self)


class FlowscopeNamespaceMismatch(MetaflowNamespaceMismatch, FlowscopeNotFound):
    """The object exists but is not in the current namespace (see ``namespace()``)."""

    def __init__(self, pathspec: str, namespace: str) -> None:
        MetaflowException.__init__(self, f"{pathspec} is not in the current namespace '{namespace}'; "
                                         f"call namespace(None) to see objects of every namespace")
        self.pathspec = pathspec
        self.namespace = namespace


class FlowscopeClientError(RuntimeError):
    """The client cannot read (database or datastore unreachable); the message says which and why."""


class FlowscopeTaggingError(ValueError):
    """A tag mutation breaks a rule (system tag, empty or too long tag, too many tags)."""
