"""FlowSpec: the base class of user flows.

``MyFlow()`` at the bottom of a flow file hands control to the command line (run, resume, spin,
show, check). Inside a task, a FlowSpec instance holds the artifacts: values the parents set are
loaded lazily (by sha, from the datastore) the first time a step reads them, and every public
attribute set or read in the step is persisted when the task ends.
"""

from __future__ import annotations

import os
import sys
from collections import namedtuple
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from core_runtime.exception import (
    InvalidNextException,
    MetaflowException,
    MissingInMergeArtifactsException,
    UnhandledInMergeArtifactsException,
)

ArtifactLoader = Callable[[str], Any]   # datastore location -> value

# One level of foreach nesting, as Metaflow's ``self._foreach_stack`` gives it.
ForeachFrame = namedtuple("ForeachFrame", ["step", "var", "num_splits", "index", "value"])

# Set by core_runtime.scheduler.remote_task on a worker node: ``MyFlow()`` then runs one task
# attempt there instead of the command line.
_task_entry: Callable[[type, list[str]], int] | None = None



class MergeArtifactsError(UnhandledInMergeArtifactsException):
    """merge_artifacts found inputs with different values for the same artifact."""


class MergeArtifactsMissing(MissingInMergeArtifactsException):
    """merge_artifacts(include=...) named artifacts no input has."""


class UnknownArtifactError(AttributeError):
    pass


class InvalidNextError(InvalidNextException):
    """self.next was called in a way the runtime cannot follow."""


class ReadOnlyArtifactError(AttributeError):
    """A step assigned a Parameter, Config or class-level constant."""


class _ArtifactView:
    """Read-only, lazily loaded artifacts of one finished task (an element of ``inputs``)."""

    def __init__(self, step: str, task_id: str, records: dict[str, dict[str, Any]],
                 loader: ArtifactLoader, extra: dict[str, Any]) -> None:
        self._step = step
        self._task_id = task_id
        self._records = records
        self._loader = loader
        self._cache: dict[str, Any] = dict(extra)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._cache:
            return self._cache[name]
        rec = self._records.get(name)
        if rec is None:
            raise UnknownArtifactError(
                f"task {self._step}/{self._task_id} has no artifact {name!r}")
        value = self._loader(rec["location"])
        self._cache[name] = value
        return value

    def __repr__(self) -> str:
        return f"<inputs of {self._step}/{self._task_id}>"


class Inputs:
    """``inputs`` of a join step: iterate, index, ``len()``, or ``inputs.<step>`` for branches."""

    def __init__(self, views: list[_ArtifactView]) -> None:
        self._views = views

    def __iter__(self) -> Iterator[_ArtifactView]:
        return iter(self._views)

    def __len__(self) -> int:
        return len(self._views)

    def __getitem__(self, i: int) -> _ArtifactView:
        return self._views[i]

    def __getattr__(self, name: str) -> _ArtifactView:
        if name.startswith("_"):
            raise AttributeError(name)
        for v in self._views:
            if v._step == name:
                return v
        steps = ", ".join(sorted({v._step for v in self._views}))
        raise AttributeError(f"inputs has no branch {name!r} (branches: {steps})")


class FlowSpec:
    """Subclass it, decorate methods with @step, and end the file with ``MyFlow()``."""

    _fs_task_attrs = ("_fs_records_in", "_fs_loader", "_fs_run_values", "_fs_transition",
                      "_fs_input", "_fs_index", "_fs_stack", "_fs_step")

    def __init__(self, use_cli: bool = True) -> None:
        object.__setattr__(self, "_fs_records_in", {})
        object.__setattr__(self, "_fs_loader", None)
        object.__setattr__(self, "_fs_run_values", {})
        object.__setattr__(self, "_fs_transition", None)
        object.__setattr__(self, "_fs_input", None)
        object.__setattr__(self, "_fs_index", None)
        object.__setattr__(self, "_fs_stack", [])
        object.__setattr__(self, "_fs_step", None)
        if use_cli:
            from core_runtime.cli.main import main

            sys.exit((_task_entry or main)(type(self), sys.argv[1:]))

    # ---- what Metaflow code reads from a flow object ------------------------------------------
    @property
    def name(self) -> str:
        """The flow's name; a step may set an artifact called ``name`` instead."""
        if "name" not in self.__dict__ and "name" in (self.__dict__.get("_fs_records_in") or {}):
            return str(self.__getattr__("name"))     # an artifact called name, set upstream
        return str(self.__dict__.get("name", type(self).__name__))

    @name.setter
    def name(self, value: Any) -> None:
        self.__dict__["name"] = value

    @property
    def script_name(self) -> str:
        module = sys.modules.get(type(self).__module__)
        return os.path.basename(getattr(module, "__file__", "") or "")

    @property
    def _graph(self) -> Any:
        """The flow's DAG as Metaflow's ``flow._graph``: ``flow._graph["start"].type`` etc."""
        from core_runtime.graph.metaflow_view import graph_of

        return graph_of(type(self))

    @property
    def _steps(self) -> list[Any]:
        return [getattr(self, node.name) for node in self._graph]

    def __iter__(self) -> Iterator[Any]:
        """The step methods (each with ``.name``), as iterating a Metaflow flow gives them."""
        return iter(self._steps)

    @property
    def _current_step(self) -> str | None:
        return self.__dict__.get("_fs_step")

    @property
    def _foreach_stack(self) -> list[ForeachFrame]:
        return [ForeachFrame(f["step"], f["var"], f["num_splits"], f["index"], f.get("value"))
                for f in self.__dict__.get("_fs_stack") or []]

    def __setattr__(self, name: str, value: Any) -> None:
        if name in (self.__dict__.get("_fs_constants") or ()):
            raise ReadOnlyArtifactError(f"{name!r} is a class-level constant of the flow: "
                                        f"flow-level attributes and Parameters are read-only in steps")
        object.__setattr__(self, name, value)

    # ---- artifacts ---------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: the artifact is not set in this task yet.
        if name.startswith("_"):
            raise AttributeError(name)
        records = self.__dict__.get("_fs_records_in") or {}
        rec = records.get(name)
        if rec is not None and self._fs_loader is not None:
            value = self._fs_loader(rec["location"])
            self.__dict__[name] = value
            return value
        step = self.__dict__.get("_fs_step")
        hint = ""
        if step is not None and not records and self.__dict__.get("_fs_is_join"):
            hint = " (a join step sees its parents' artifacts only through inputs or merge_artifacts)"
        where = f"step {step!r}" if step else type(self).__name__
        raise UnknownArtifactError(f"{where} has no artifact {name!r}{hint}")

    def _fs_parameter_value(self, attr: str) -> Any:
        values = self.__dict__.get("_fs_run_values") or {}
        if attr not in values:
            raise AttributeError(f"parameter {attr!r} has no value outside a running flow")
        return values[attr]

    # ---- foreach -----------------------------------------------------------------------------
    @property
    def input(self) -> Any:
        """The element of the foreach list this task works on (None outside a foreach)."""
        if self._fs_index is None:
            return None
        if "_fs_input_value" not in self.__dict__:
            load = self.__dict__.get("_fs_input_loader")
            self.__dict__["_fs_input_value"] = load() if load is not None else self._fs_input
        return self.__dict__["_fs_input_value"]

    @property
    def index(self) -> int | None:
        return self._fs_index  # type: ignore[no-any-return]

    def _frame_input(self, level: int) -> Any:
        """The element of an enclosing foreach's list (None when the list is not visible here)."""
        frame = self._fs_stack[level]
        if level == len(self._fs_stack) - 1 and self._fs_index is not None:
            return self.input
        try:
            items = getattr(self, frame["var"])
        except AttributeError:
            return None
        index = int(frame["index"])
        if isinstance(items, (list, tuple, range, str)):
            return items[index]
        return next(islice(iter(items), index, index + 1), None)   # a dict, a generator...

    def foreach_stack(self) -> list[tuple[int, int, Any]]:
        """(index, num_splits, value) per enclosing foreach, outermost first."""
        return [(f["index"], f["num_splits"], self._frame_input(i)) for i, f in enumerate(self._fs_stack)]

    # ---- transitions -------------------------------------------------------------------------
    def next(self, *steps: Any, foreach: str | None = None, condition: str | None = None,
             num_parallel: int | None = None) -> None:
        """The step(s) to run next: ``self.next(self.a)``, ``self.next(self.a, self.b)``,
        ``self.next(self.a, foreach="items")``, ``self.next(self.a, num_parallel=4)`` or a switch,
        ``self.next({"x": self.a, "y": self.b}, condition="artifact")``."""
        if self._fs_transition is not None:
            raise InvalidNextError(f"step {self._fs_step!r} called self.next twice")
        if condition is not None:
            self._fs_switch(steps, condition, foreach)
            return
        if len(steps) == 1 and isinstance(steps[0], dict):
            raise InvalidNextError(f"step {self._fs_step!r}: a dict of cases needs condition='artifact': "
                                   f"self.next({{'a': self.a, 'b': self.b}}, condition='mode')")
        if not steps:
            raise InvalidNextError(f"step {self._fs_step!r}: self.next needs at least one step")
        names = [self._fs_step_name(s) for s in steps]
        if (foreach is not None or num_parallel is not None) and len(names) != 1:
            raise InvalidNextError(f"step {self._fs_step!r}: a foreach goes to exactly one step")
        if num_parallel is not None and (not isinstance(num_parallel, int) or num_parallel < 1):
            raise InvalidNextError(f"step {self._fs_step!r}: num_parallel must be a whole number "
                                   f"of at least 1, got {num_parallel!r}")
        if isinstance(foreach, str):
            self._fs_check_foreach(foreach)
        object.__setattr__(self, "_fs_transition", {"next": names, "foreach": foreach,
                                                    "num_parallel": num_parallel})

    def _fs_check_foreach(self, var: str) -> None:
        """Metaflow checks the foreach variable inside self.next, so the error is raised at the
        user's line (where the step's own try/except and @catch see it), with these messages."""
        step = self._fs_step
        try:
            items = getattr(self, var)
        except AttributeError:
            raise InvalidNextError(f"Foreach variable self.{var} in step {step} does not exist. "
                                   f"Check your variable.") from None
        try:
            iter(items)
        except TypeError as exc:
            raise InvalidNextError(f"Foreach variable self.{var} in step {step} is not iterable. "
                                   f"Please check details: {exc}") from None
        try:
            empty = len(items) == 0    # only what has a length: iterating would use up a generator
        except TypeError:
            empty = False
        if empty:
            raise InvalidNextError(f"Foreach iterator over {var} in step {step} produced zero splits. "
                                   f"Check your variable.")

    def _fs_step_name(self, target: Any) -> str:
        name = getattr(target, "__name__", None)
        if name is None or not callable(target):
            raise InvalidNextError(f"step {self._fs_step!r}: self.next got {target!r}, not a step")
        return str(name)

    def _fs_switch(self, steps: tuple[Any, ...], condition: str, foreach: str | None) -> None:
        step = self._fs_step
        if len(steps) != 1 or not isinstance(steps[0], dict) or not steps[0]:
            raise InvalidNextError(f"step {step!r}: with condition=, self.next takes one non-empty dict "
                                   f"of cases: self.next({{'a': self.a, 'b': self.b}}, condition='mode')")
        if not isinstance(condition, str):
            raise InvalidNextError(f"step {step!r}: condition= must be a string naming an artifact")
        if foreach is not None:
            raise InvalidNextError(f"step {step!r}: a switch (condition=) cannot be combined with foreach=")
        cases: dict[Any, Any] = steps[0]
        try:
            value = getattr(self, condition)
        except AttributeError:
            raise InvalidNextError(f"step {step!r}: the switch's condition self.{condition} is not set; "
                                   f"set self.{condition} in this step (or an earlier one)") from None
        try:
            known = value in cases
        except TypeError:      # an unhashable value cannot be a case
            known = False
        if not known:
            # Metaflow's wording, so logs and tests read the same under both runtimes.
            raise RuntimeError(f"Switch condition variable '{condition}' has value '{value}' "
                               f"which is not in the available cases: {list(cases)}")
        object.__setattr__(self, "_fs_transition",
                           {"next": [self._fs_step_name(cases[value])], "foreach": None, "switch": True})

    # ---- joins -------------------------------------------------------------------------------
    def merge_artifacts(self, inputs: Inputs, exclude: list[str] | None = None,
                        include: list[str] | None = None) -> None:
        """Take over every artifact the inputs agree on; conflicting ones must be set first."""
        if not self.__dict__.get("_fs_is_join"):
            raise MetaflowException(f"step {self._fs_step!r}: merge_artifacts can only be called "
                                    f"in a join step (def {self._fs_step}(self, inputs))")
        if exclude and include:
            raise MetaflowException(f"step {self._fs_step!r}: merge_artifacts takes include= or "
                                    f"exclude=, not both")
        excluded = set(exclude or [])
        wanted = set(include) if include else None
        candidates: dict[str, list[dict[str, Any]]] = {}
        for view in inputs:
            for name, rec in view._records.items():
                if name.startswith("_") or name in excluded:
                    continue
                if wanted is not None and name not in wanted:
                    continue
                candidates.setdefault(name, []).append(rec)
        run_values = self.__dict__.get("_fs_run_values") or {}
        conflicts = []
        merged: dict[str, dict[str, Any]] = {}
        for name, recs in candidates.items():
            if name in self.__dict__ or name in run_values:
                continue   # set explicitly in this join, or a parameter: not merged
            if len({r["sha"] for r in recs}) > 1:
                conflicts.append(name)
                continue
            merged[name] = recs[0]
        if wanted is not None:
            missing = sorted(wanted - set(merged))
            if missing:
                raise MergeArtifactsMissing(
                    f"step {self._fs_step!r}: merge_artifacts(include=...) names artifacts that "
                    f"are not merged from the inputs: {', '.join(missing)}", missing)
        if conflicts:
            raise MergeArtifactsError(
                f"step {self._fs_step!r} cannot merge artifacts whose values differ between "
                f"its inputs: {', '.join(sorted(conflicts))}. Set them in the join step "
                f"(self.<name> = ...) before calling merge_artifacts, or pass exclude=[...].",
                sorted(conflicts))
        # Nothing is merged unless everything can be (as in Metaflow).
        self._fs_records_in.update(merged)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} step={self.__dict__.get('_fs_step')}>"
