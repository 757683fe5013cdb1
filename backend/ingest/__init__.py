"""Metaflow ingest: the metadata-service API that the open-source metaflow client records into."""

from backend.ingest.app import create_ingest_app

__all__ = ["create_ingest_app"]
