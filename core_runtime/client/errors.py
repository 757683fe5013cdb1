"""Client errors, shaped like Metaflow's MetaflowNotFound / MetaflowNamespaceMismatch."""

from __future__ import annotations


class FlowscopeNotFound(LookupError):
    """The flow, run, step, task or artifact does not exist (the message names the pathspec)."""


class FlowscopeNamespaceMismatch(FlowscopeNotFound):
    """The object exists but is not in the current namespace (see ``namespace()``)."""

    def __init__(self, pathspec: str, namespace: str) -> None:
        super().__init__(f"{pathspec} is not in the current namespace '{namespace}'; "
                         f"call namespace(None) to see objects of every namespace")
        self.pathspec = pathspec
        self.namespace = namespace


class FlowscopeClientError(RuntimeError):
    """The client cannot read (database or datastore unreachable); the message says which and why."""


class FlowscopeTaggingError(ValueError):
    """A tag mutation breaks a rule (system tag, empty or too long tag, too many tags)."""
