"""``metaflow.plugins.cards.card_client`` by its path: the client's card objects."""

from core_runtime.cards.client import Card as Card
from core_runtime.cards.client import CardContainer as CardContainer
from core_runtime.cards.client import get_cards as get_cards
