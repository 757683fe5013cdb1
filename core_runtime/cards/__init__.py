"""Cards: Metaflow-like components rendered to self-contained HTML pages stored per task."""

from typing import Any

from core_runtime.cards.card_types import MetaflowCard, MetaflowCardComponent
from core_runtime.cards.client import Card, CardContainer, CardNotPresentException, get_cards
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

__all__ = ["Artifact", "Card", "CardContainer", "CardError", "CardNotPresentException", "Component",
           "Image", "Markdown", "MetaflowCard", "MetaflowCardComponent", "ProgressBar", "Table",
           "default_card", "get_cards", "markdown_to_html", "render_card", "render_value", "save_card"]


def __getattr__(name: str) -> Any:
    # save_card writes the cards table (psycopg2): imported on use, so a task running in a
    # @pypi/@conda environment without a database driver can still render cards.
    if name == "save_card":
        from core_runtime.cards.save import save_card

        return save_card
    raise AttributeError(f"module 'core_runtime.cards' has no attribute {name!r}")
