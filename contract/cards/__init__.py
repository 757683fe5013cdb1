"""The one card page format, for the runtime that writes cards and the backend that serves
Metaflow's: a card state (Metaflow's card JSON + seq/final) in a self-contained HTML page."""

from contract.cards.page import CardAssetsMissing, card_page, has_charts, state_json

__all__ = ["CardAssetsMissing", "card_page", "has_charts", "state_json"]
