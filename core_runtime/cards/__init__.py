"""Cards: Metaflow's card components, card types and ``current.card`` API; pages drawn by a
bundled renderer; ``get_cards`` reads them back."""

from contract.cards.page import CardAssetsMissing, card_page
from core_runtime.cards.card_types import BlankCard, DefaultCard, ErrorCard, MetaflowCard
from core_runtime.cards.client import Card, CardContainer, CardNotPresentException, get_cards
from core_runtime.cards.components import (
    Artifact,
    CardError,
    Error,
    Image,
    Markdown,
    MetaflowCardComponent,
    ProgressBar,
    PythonCode,
    Table,
    UserComponent,
    ValueBox,
    VegaChart,
)
from core_runtime.cards.documents import card_doc

__all__ = ["Artifact", "BlankCard", "Card", "CardAssetsMissing", "CardContainer", "CardError",
           "CardNotPresentException", "DefaultCard", "Error", "ErrorCard", "Image", "Markdown", "MetaflowCard",
           "MetaflowCardComponent", "ProgressBar", "PythonCode", "Table", "UserComponent", "ValueBox", "VegaChart",
           "card_doc", "card_page", "get_cards"]
