"""Card components with Metaflow's names, constructors and ``update`` methods (``metaflow.cards``).

Each renders to a dict of Metaflow's card JSON (``{"type": "progressBar", "id": …, …}``), the
document the card page's renderer draws. Nothing here produces HTML: every string is data, shown
by the renderer as text (or as Markdown with raw HTML escaped), so user values cannot inject
markup. Like Metaflow's, a component that cannot render shows an error in the card instead of
failing the step.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Sequence
from typing import Any

from core_runtime.artifacts import make_preview, type_name
from core_runtime.cards.images import image_src


class CardError(ValueError):
    """A component was given something it cannot show; the message says what and why."""


def _new_id(component: Any) -> str:
    return f"{type(component).__name__.lower()}_{uuid.uuid4().hex[:6]}"


class MetaflowCardComponent:
    """Base of every card component. ``REALTIME_UPDATABLE`` components may change after they
    were added; ``component_id`` names them in the card (set by ``append(c, id=…)`` or generated)."""

    REALTIME_UPDATABLE = False
    component_id: str | None = None

    def render(self) -> Any:
        raise NotImplementedError

    def safe_render(self) -> dict[str, Any]:
        """``render()``, or an error component saying why it failed (the card still renders).
        A user component may render to text (custom card types take it as it is); in a
        document it is shown as text."""
        if self.component_id is None:
            self.component_id = _new_id(self)
        try:
            out = self.render()
        except Exception as exc:  # noqa: BLE001 - a user value's repr (or anything) may raise
            return log_component(f"{type(self).__name__} could not be rendered: "
                                 f"{type(exc).__name__}: {exc}", self.component_id)
        if isinstance(out, str):
            out = {"type": "text", "text": out}
        elif not isinstance(out, dict):
            return log_component(f"{type(self).__name__}.render() returned {type(out).__name__}, "
                                 "not a dict or text", self.component_id)
        out.setdefault("id", self.component_id)
        return out

    def update(self, *args: Any, **kwargs: Any) -> None:
        raise CardError(f"{type(self).__name__} cannot be updated after it was added to a card")


# Metaflow's base class name for user components.
UserComponent = MetaflowCardComponent


def log_component(text: str, component_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "log", "data": text}
    if component_id:
        out["id"] = component_id
    return out


def render_cell(value: Any) -> Any:
    """A table cell: components render themselves, JSON scalars stay, anything else is previewed."""
    if isinstance(value, MetaflowCardComponent):
        return value.safe_render()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return make_preview(value, limit=500)


class Markdown(MetaflowCardComponent):
    REALTIME_UPDATABLE = True

    def __init__(self, text: str | None = None) -> None:
        self._text = textwrap.dedent(text) if text is not None else None

    def update(self, text: str | None = None) -> None:
        self._text = textwrap.dedent(text) if text is not None else None

    def render(self) -> dict[str, Any]:
        return {"type": "markdown", "source": self._text or ""}


class Table(MetaflowCardComponent):
    """Rows of cells; a cell may be any component (Markdown, Artifact, Image, VegaChart, …)."""

    REALTIME_UPDATABLE = True

    def __init__(self, data: Sequence[Sequence[Any]] | None = None, headers: Sequence[str] | None = None,
                 disable_updates: bool = False) -> None:
        self._data = [list(row) for row in (data or [])]
        self._headers = [str(h) for h in (headers or [])]
        if disable_updates:
            self.REALTIME_UPDATABLE = False

    @classmethod
    def from_dataframe(cls, dataframe: Any = None, truncate: bool = True) -> Table:
        if not (hasattr(dataframe, "itertuples") and hasattr(dataframe, "columns")):
            return cls(headers=[f"Object type {type_name(dataframe)} not supported"], disable_updates=True)
        frame = dataframe.head(100) if truncate else dataframe
        return cls([list(row) for row in frame.itertuples(index=False)], [str(c) for c in frame.columns],
                   disable_updates=True)

    def add_row(self, row: Sequence[Any]) -> None:
        self._data.append(list(row))

    def update(self, *args: Any, **kwargs: Any) -> None:
        raise CardError("Table cannot be updated: update the components inside it instead")

    def render(self) -> dict[str, Any]:
        return {"type": "table", "columns": list(self._headers),
                "data": [[render_cell(c) for c in row] for row in self._data], "vertical": False}


class Image(MetaflowCardComponent):
    """PNG/JPEG/GIF/WebP bytes, a PIL image or a matplotlib figure (or Axes), embedded as data."""

    REALTIME_UPDATABLE = True

    def __init__(self, src: Any = None, label: str | None = None, disable_updates: bool = True) -> None:
        if disable_updates:
            self.REALTIME_UPDATABLE = False
        self._label = label
        self._src, self._error = image_src(src)

    @classmethod
    def from_matplotlib(cls, plot: Any, label: str | None = None, disable_updates: bool = False) -> Image:
        return cls(plot, label=label, disable_updates=disable_updates)

    @classmethod
    def from_pil_image(cls, pilimage: Any, label: str | None = None, disable_updates: bool = False) -> Image:
        return cls(pilimage, label=label, disable_updates=disable_updates)

    def update(self, image: Any, label: str | None = None) -> None:
        if not self.REALTIME_UPDATABLE:
            raise CardError("this Image was created with disable_updates=True; create it with "
                            "disable_updates=False (Image.from_matplotlib/from_pil_image do) to update it")
        self._src, self._error = image_src(image)
        if label is not None:
            self._label = label

    def render(self) -> dict[str, Any]:
        if self._error:
            return log_component(f"[IMAGE_RENDER FAIL]: {self._error}")
        return {"type": "image", "src": self._src, "label": self._label}


class Artifact(MetaflowCardComponent):
    REALTIME_UPDATABLE = True

    def __init__(self, artifact: Any, name: str | None = None, compressed: bool = True) -> None:
        self._artifact, self._name = artifact, name
        self._limit = 300 if compressed else 20000

    def update(self, artifact: Any) -> None:
        self._artifact = artifact

    def render(self) -> dict[str, Any]:
        item = {"name": None if self._name is None else str(self._name), "type": type_name(self._artifact),
                "data": make_preview(self._artifact, limit=self._limit)}
        return {"type": "artifacts", "data": [item]}


class VegaChart(MetaflowCardComponent):
    """A Vega-Lite (or Vega) spec, drawn by the card page without network access or eval."""

    REALTIME_UPDATABLE = True

    def __init__(self, spec: dict[str, Any], show_controls: bool = False) -> None:
        self._spec = _chart_spec(spec)
        self._show_controls = show_controls
        self._inside_table = False

    @staticmethod
    def _is_altair(chart: Any) -> bool:
        cls = type(chart)
        name = f"{cls.__module__}.{cls.__qualname__}"
        return "altair" in name and hasattr(chart, "to_dict")

    @classmethod
    def from_altair_chart(cls, altair_chart: Any) -> VegaChart:
        if not cls._is_altair(altair_chart):
            raise CardError(f"{type_name(altair_chart)} is not an altair chart")
        return cls(altair_chart.to_dict())

    def update(self, spec: Any = None) -> None:
        if spec is not None:
            self._spec = _chart_spec(spec)

    def render(self) -> dict[str, Any]:
        spec = dict(self._spec)
        if "width" not in spec and not self._inside_table:
            spec["width"] = "container"
        out: dict[str, Any] = {"type": "vegaChart", "spec": spec}
        if not self._show_controls:
            out["options"] = {"actions": False}
        return out


def _chart_spec(spec: Any) -> dict[str, Any]:
    if VegaChart._is_altair(spec):
        spec = spec.to_dict()
    if not isinstance(spec, dict):
        raise CardError(f"VegaChart: spec must be a dict (a Vega-Lite spec) or an altair chart, "
                        f"not {type_name(spec)}")
    return spec


class ProgressBar(MetaflowCardComponent):
    REALTIME_UPDATABLE = True

    def __init__(self, max: float = 100, label: str | None = None, value: float = 0,
                 unit: str | None = None, metadata: str | None = None) -> None:
        self._max, self._label, self._value, self._unit, self._metadata = max, label, value, unit, metadata

    def update(self, new_value: float, metadata: str | None = None) -> None:
        self._value = new_value
        if metadata is not None:
            self._metadata = metadata

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "progressBar", "max": self._max, "value": self._value}
        if self._label:
            out["label"] = self._label
        if self._unit:
            out["unit"] = self._unit
        if self._metadata:
            out["details"] = self._metadata
        return out


class ValueBox(MetaflowCardComponent):
    REALTIME_UPDATABLE = True

    def __init__(self, title: str | None = None, value: str | float = "", subtitle: str | None = None,
                 theme: str | None = None, change_indicator: str | None = None) -> None:
        self._fields: dict[str, Any] = {"title": title, "value": value, "subtitle": subtitle, "theme": theme,
                                        "change_indicator": change_indicator}

    def update(self, **fields: Any) -> None:
        unknown = set(fields) - set(self._fields)
        if unknown:
            raise CardError(f"ValueBox.update: unknown fields {sorted(unknown)}")
        self._fields.update({k: v for k, v in fields.items() if v is not None})

    def render(self) -> dict[str, Any]:
        return {"type": "valueBox", **{k: v for k, v in self._fields.items() if v is not None}}


class PythonCode(MetaflowCardComponent):
    def __init__(self, code_func: Any = None, code_string: str | None = None) -> None:
        if code_func is not None:
            import inspect

            code_string = inspect.getsource(code_func)
        self._code = code_string

    def render(self) -> dict[str, Any]:
        if self._code is None:
            return log_component("PythonCode needs code_func or code_string")
        return {"type": "pythonCode", "data": self._code}


class Error(MetaflowCardComponent):
    """An exception (its repr) under a title, as Metaflow's ``Error`` shows it."""

    def __init__(self, exception: BaseException | Any, title: str | None = None) -> None:
        self._exception, self._title = exception, title

    def render(self) -> dict[str, Any]:
        return log_component(f"{self._title}\n\n{self._exception!r}")
