"""Bounded caches of immutable things, and bounded, timed access to the datastore and workers."""
