"""Card components with Metaflow's names and constructors (``metaflow.cards``): Markdown, Table,
Image, Artifact, ProgressBar. Each renders itself to an HTML fragment in which every piece of
user data is escaped."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

from core_runtime.artifacts import make_preview, type_name
from core_runtime.cards.markdown import markdown_to_html


class CardError(ValueError):
    """A component cannot be built from what it was given; the message says what and why."""


class Component:
    """Base of every card component."""

    def render(self) -> str:
        raise NotImplementedError


class Markdown(Component):
    def __init__(self, text: str) -> None:
        self.text = str(text)

    def update(self, text: str) -> None:
        self.text = str(text)

    def render(self) -> str:
        return f'<div class="markdown">{markdown_to_html(self.text)}</div>'


def render_value(value: Any) -> str:
    """A table cell or loose value: components render themselves, anything else is previewed."""
    if isinstance(value, Component):
        return value.render()
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return html.escape(str(value))
    return f"<code>{html.escape(make_preview(value, limit=500))}</code>"


class Table(Component):
    def __init__(self, data: Sequence[Sequence[Any]] | None = None, headers: Sequence[str] | None = None,
                 disable_updates: bool = False) -> None:
        self.data = [list(row) for row in (data or [])]
        self.headers = [str(h) for h in (headers or [])]

    @classmethod
    def from_dataframe(cls, dataframe: Any, truncate: bool = True) -> Table:
        frame = dataframe.head(100) if truncate else dataframe
        return cls([list(row) for row in frame.itertuples(index=False)], [str(c) for c in frame.columns])

    def add_row(self, row: Sequence[Any]) -> None:
        self.data.append(list(row))

    def render(self) -> str:
        head = ""
        if self.headers:
            head = "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in self.headers) + "</tr></thead>"
        body = "".join("<tr>" + "".join(f"<td>{render_value(c)}</td>" for c in row) + "</tr>"
                       for row in self.data)
        return f'<table class="table">{head}<tbody>{body}</tbody></table>'


_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_mime(data: bytes) -> str:
    for magic, mime in _IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    # SVG is refused on purpose: it can carry script.
    raise CardError("Image: src must be PNG, JPEG, GIF or WebP bytes, or a matplotlib figure "
                    f"(got {len(data)} bytes starting {data[:8]!r})")


class Image(Component):
    def __init__(self, src: bytes | Any, label: str | None = None) -> None:
        if hasattr(src, "savefig"):
            src = _figure_png(src)
        if not isinstance(src, (bytes, bytearray)):
            raise CardError(f"Image: src must be image bytes or a matplotlib figure, not {type_name(src)}")
        self.mime = image_mime(bytes(src))
        self.data = bytes(src)
        self.label = label

    @classmethod
    def from_matplotlib(cls, figure: Any, label: str | None = None) -> Image:
        return cls(_figure_png(figure), label=label)

    @classmethod
    def from_pil_image(cls, image: Any, label: str | None = None) -> Image:
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return cls(buf.getvalue(), label=label)

    def render(self) -> str:
        uri = f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"
        alt = html.escape(self.label or "image")
        caption = f"<figcaption>{html.escape(self.label)}</figcaption>" if self.label else ""
        return f'<figure class="image"><img src="{uri}" alt="{alt}">{caption}</figure>'


def _figure_png(figure: Any) -> bytes:
    buf = io.BytesIO()
    try:
        figure.savefig(buf, format="png", bbox_inches="tight")
    except Exception as exc:
        raise CardError(f"Image: the figure cannot be saved as PNG: {type(exc).__name__}: {exc}") from exc
    return buf.getvalue()


class Artifact(Component):
    def __init__(self, artifact: Any, name: str | None = None, compressed: bool = True) -> None:
        self.value = artifact
        self.name = name
        self.limit = 300 if compressed else 5000

    def render(self) -> str:
        name = f'<span class="name">{html.escape(self.name)}</span> ' if self.name else ""
        kind = html.escape(type_name(self.value))
        preview = html.escape(make_preview(self.value, limit=self.limit))
        return f'<div class="artifact">{name}<span class="type">{kind}</span><pre>{preview}</pre></div>'


class ProgressBar(Component):
    def __init__(self, max: float = 100, label: str | None = None, value: float = 0,
                 unit: str | None = None, metadata: str | None = None) -> None:
        if max <= 0:
            raise CardError(f"ProgressBar: max must be positive, got {max!r}")
        self.max, self.label, self.value, self.unit, self.metadata = max, label, value, unit, metadata

    def update(self, new_value: float, metadata: str | None = None) -> None:
        self.value = new_value
        if metadata is not None:
            self.metadata = metadata

    def render(self) -> str:
        pct = max(0.0, min(100.0, 100.0 * float(self.value) / float(self.max)))
        unit = f" {self.unit}" if self.unit else ""
        text = html.escape(f"{self.value}/{self.max}{unit}" + (f" · {self.metadata}" if self.metadata else ""))
        label = f'<div class="label">{html.escape(self.label)}</div>' if self.label else ""
        return (f'<div class="progress">{label}<div class="bar"><div class="fill" style="width:{pct:.1f}%">'
                f'</div></div><div class="value">{text}</div></div>')
