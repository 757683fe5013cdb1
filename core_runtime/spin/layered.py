"""A datastore read in layers: spin's own first, then the flow's (used by spin and its env tasks).

Kept apart from the spin store so a task inside a @pypi environment (no psycopg2 there) can
import it.
"""

from __future__ import annotations

from contract.datastore import Datastore, DatastoreError


class LayeredDatastore:
    """Reads a key from the spin datastore, else from the flows' own; writes go to the first.

    Keys are content-addressed, so one key names the same bytes wherever it is found.
    """

    def __init__(self, primary: Datastore, fallbacks: list[Datastore]) -> None:
        self.primary = primary
        self.fallbacks = fallbacks
        self.root = primary.root

    def put(self, key: str, data: bytes) -> None:
        self.primary.put(key, data)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        return self.primary.put_if_absent(key, data)

    def get(self, key: str) -> bytes:
        if self.primary.exists(key):
            return self.primary.get(key)
        for ds in self.fallbacks:
            try:
                return ds.get(key)
            except DatastoreError:
                continue
        return self.primary.get(key)   # raises, naming the spin datastore and the key

    def exists(self, key: str) -> bool:
        return self.primary.exists(key) or any(ds.exists(key) for ds in self.fallbacks)

    def list(self, prefix: str) -> list[str]:
        keys = set(self.primary.list(prefix))
        for ds in self.fallbacks:
            keys.update(ds.list(prefix))
        return sorted(keys)
