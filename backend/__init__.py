"""Flowscope's UI backend: a read-only REST + websocket API over the run database."""

__version__ = "0.1.0"
