"""Artifact values the generated tasks point at: small pools of real pickled blobs per flow.

Values repeat across tasks (as they do in real archives, where content addressing stores each
once), so a handful of blobs per (flow, name) backs millions of artifact rows, and every row's
location is readable from the datastore.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.catalogue import Flow
from bench.copy_text import esc
from contract.datastore import Datastore
from core_runtime.artifacts import persist_artifacts

POOL_SIZE = 16

_MAKERS: dict[str, Callable[[random.Random], Any]] = {
    "accuracy": lambda r: round(r.uniform(0.6, 0.99), 4),
    "loss": lambda r: round(r.lognormvariate(-1, 0.5), 5),
    "n_rows": lambda r: r.randrange(1_000, 50_000_000),
    "model_path": lambda r: f"s3://models/{r.getrandbits(40):010x}/model.bin",
    "features": lambda r: [f"f_{r.randrange(500)}" for _ in range(r.randint(3, 40))],
    "config": lambda r: {"lr": round(r.uniform(1e-4, 1e-1), 5), "depth": r.randint(2, 12),
                         "seed": r.randrange(1000)},
    "shape": lambda r: (r.randrange(10, 10**6), r.randint(2, 300)),
    "items": lambda r: list(range(r.randint(2, 50))),
    "result": lambda r: {"ok": r.random() < 0.95, "score": round(r.random(), 3)},
    "message": lambda r: r.choice(["all good", "retrained", "no drift", "drift detected: 3 features"]),
}
NAMES = tuple(_MAKERS)


@dataclass(frozen=True)
class PooledArtifact:
    """One blob, with its COPY fields pre-rendered: "sha\\ttype\\tsize\\tencoding\\tlocation\\tpreview"."""

    name: str
    fields: str


def build_pools(rng: random.Random, ds: Datastore, flows: list[Flow],
                per_task: int) -> dict[tuple[str, str], list[list[PooledArtifact]]]:
    """(flow_id, step) -> one list of pooled values per artifact name of that step."""
    pools: dict[tuple[str, str], list[list[PooledArtifact]]] = {}
    for flow in flows:
        by_name: dict[str, list[PooledArtifact]] = {}
        for step in flow.steps:
            names = rng.sample(NAMES, min(per_task, len(NAMES)))
            for name in names:
                if name not in by_name:
                    by_name[name] = _pool(rng, ds, flow.flow_id, step.name, name)
            pools[(flow.flow_id, step.name)] = [by_name[n] for n in names]
    return pools


def _pool(rng: random.Random, ds: Datastore, flow_id: str, step: str,
          name: str) -> list[PooledArtifact]:
    out = []
    for _ in range(POOL_SIZE):
        rec = persist_artifacts(ds, flow_id, step, {name: _MAKERS[name](rng)})[0]
        fields = [rec.sha, rec.type, str(rec.size), rec.encoding, rec.location, rec.preview]
        out.append(PooledArtifact(name, "\t".join(esc(f) for f in fields)))
    return out
