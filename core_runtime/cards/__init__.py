"""Cards: Metaflow-like components rendered to self-contained HTML pages stored per task."""

from core_runtime.cards.components import (
    Artifact,
    CardError,
    Component,
    Image,
    Markdown,
    ProgressBar,
    Table,
    render_value,
)
from core_runtime.cards.markdown import markdown_to_html
from core_runtime.cards.render import default_card, render_card
from core_runtime.cards.save import save_card

__all__ = ["Artifact", "CardError", "Component", "Image", "Markdown", "ProgressBar", "Table",
           "default_card", "markdown_to_html", "render_card", "render_value", "save_card"]
