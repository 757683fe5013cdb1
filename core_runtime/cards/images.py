"""Image sources for cards: bytes, PIL images and matplotlib figures become data: URIs.

Only raster formats recognised by their magic bytes are embedded (SVG is refused: it can carry
script). Bad input is not an exception: like Metaflow, the card shows why the image is missing.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from core_runtime.artifacts import type_name

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_mime(data: bytes) -> str | None:
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _png(save: Any, **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    save(buf, format="png", **kwargs)
    return buf.getvalue()


def image_src(src: Any) -> tuple[str | None, str | None]:
    """(data URI, None) or (None, why it cannot be shown)."""
    if src is None:
        return None, "Image src cannot be None"
    if isinstance(src, str):
        if src.startswith("data:image/"):
            return src, None
        return None, "a string src must be a data:image/… URI (pass bytes for image files)"
    try:
        if isinstance(src, (bytes, bytearray, memoryview)):
            data = bytes(src)
        elif hasattr(src, "get_figure") and not hasattr(src, "savefig"):
            data = _png(src.get_figure().savefig, bbox_inches="tight")    # matplotlib Axes
        elif hasattr(src, "savefig"):
            data = _png(src.savefig, bbox_inches="tight")                 # matplotlib Figure
        elif type(src).__module__.startswith("PIL"):
            data = _png(src.save)
        else:
            return None, (f"Image src must be image bytes, a PIL image or a matplotlib figure, "
                          f"not {type_name(src)}")
    except Exception as exc:  # noqa: BLE001 - a figure that cannot be saved is shown as such
        return None, f"the image could not be saved as PNG: {type(exc).__name__}: {exc}"
    mime = image_mime(data)
    if mime is None:
        return None, (f"bytes are not a PNG, JPEG, GIF or WebP image ({len(data)} bytes "
                      f"starting {data[:8]!r})")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}", None
