"""``metaflow.plugins.cards.exception`` by its path."""

from core_runtime.cards.client import CardNotPresentException as CardNotPresentException
