"""Metaflow's ``metaflow.plugins.cards`` module paths (``card_client``, ``exception``) on
core_runtime; the cards themselves live in ``core_runtime.cards``."""
