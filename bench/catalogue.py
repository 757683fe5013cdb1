"""The generated world: flows (with DAGs in Metaflow's _graph_info format), users and tags.

Everything here is derived from the seed's RNG, so the same seed gives the same world. Popularity
is Zipf-like: a handful of flows, users and tags account for most runs, as in real archives.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from itertools import accumulate
from typing import Any

from bench.copy_text import esc

_VERBS = ["Train", "Score", "Etl", "Feature", "Forecast", "Rank", "Embed", "Clean", "Ingest", "Report"]
_KINDS = ["Flow", "DailyFlow", "BackfillFlow", "SweepFlow"]
_FIRST = ["alice", "bob", "carol", "dan", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
          "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yara"]
_LAST = ["chen", "smith", "garcia"]
_TAG_WORDS = ["prod", "staging", "dev", "nightly", "backfill", "hotfix", "ab-test", "gpu", "cpu-only",
              "big-data", "smoke", "canary", "release", "experiment", "baseline", "tuning", "ablation",
              "retrain", "eval", "debug"]
_LINEAR_STEPS = ["load", "clean", "featurize", "train", "evaluate", "validate", "publish", "score",
                 "report", "notify"]
_BRANCH_STEPS = ["train_xgb", "train_lgbm", "train_linear", "train_mlp", "train_rf", "train_svm",
                 "train_knn", "train_nb"]
HUGE_FLOW = "MegaSweepFlow"


def zipf_cum(n: int, s: float) -> list[float]:
    """Cumulative Zipf weights for random.choices(cum_weights=...)."""
    return list(accumulate(1.0 / (i + 1) ** s for i in range(n)))


@dataclass(frozen=True)
class Step:
    name: str
    kind: str                 # how the step ends (_graph_info "type")
    parents: tuple[str, ...]
    foreach: bool             # a foreach body: one task per split
    retry: int                # @retry(times=N); 0 without


@dataclass(frozen=True)
class Flow:
    flow_id: str
    shape: str                # linear | branch | foreach
    steps: tuple[Step, ...]   # in execution order
    dag_copy: str             # the _graph_info JSON, COPY-escaped
    file_name: str
    source_copy: str          # the flow file's text, COPY-escaped
    params: tuple[str, ...]
    step_ms: tuple[float, ...]  # median task duration per step
    owner: int                # index of the user who mostly runs it


def _steps_for(shape: str, tasks_per_run: int, retry_body: int) -> list[Step]:
    if shape == "foreach":
        return [Step("start", "split-foreach", (), False, 0),
                Step("process", "linear", ("start",), True, retry_body),
                Step("gather", "join", ("process",), False, 0),
                Step("end", "end", ("gather",), False, 0)]
    if shape == "branch":
        names = [_BRANCH_STEPS[i] if i < len(_BRANCH_STEPS) else f"train_{i}"
                 for i in range(tasks_per_run - 3)]
        return ([Step("start", "split-static", (), False, 0)]
                + [Step(n, "linear", ("start",), False, 0) for n in names]
                + [Step("join", "join", tuple(names), False, 0), Step("end", "end", ("join",), False, 0)])
    middle = [_LINEAR_STEPS[i] if i < len(_LINEAR_STEPS) else f"stage_{i}"
              for i in range(max(0, tasks_per_run - 2))]
    order = ["start", *middle, "end"]
    return [Step(n, "end" if n == "end" else ("start" if n == "start" and len(order) > 1 else "linear"),
                 (order[i - 1],) if i else (), False, 0) for i, n in enumerate(order)]


def graph_info(flow_id: str, file_name: str, steps: list[Step], params: tuple[str, ...]) -> dict[str, Any]:
    children: dict[str, list[str]] = {s.name: [] for s in steps}
    for s in steps:
        for p in s.parents:
            children[p].append(s.name)
    src = f"/home/ci/flows/{file_name}"
    nodes = {}
    for i, s in enumerate(steps):
        node: dict[str, Any] = {"name": s.name, "type": s.kind, "line": 12 + 8 * i, "source_file": src,
                      "doc": f"The {s.name} step.", "decorators": [], "next": children[s.name],
                      "node_info": {}}
        if s.retry:
            node["decorators"] = [{"name": "retry", "attributes": {"times": s.retry,
                                   "minutes_between_retries": 0}, "statically_defined": True,
                                   "inserted_by": None}]
        if s.kind == "split-foreach":
            node["foreach_artifact"] = "items"
        if s.kind.startswith("split-"):
            node["matching_join"] = next(t.name for t in steps if t.kind == "join")
        nodes[s.name] = node
    structure: list[Any] = []
    i = 0
    while i < len(steps):
        s = steps[i]
        structure.append(s.name)
        if s.kind.startswith("split-"):
            branch = [t.name for t in steps if t.parents == (s.name,)]
            structure.append([[b] for b in branch])
            i += len(branch)
        i += 1
    return {"file": file_name, "start_step": "start", "end_step": "end",
            "parameters": [{"name": p, "type": "Parameter"} for p in params], "constants": [],
            "steps": nodes, "graph_structure": structure, "doc": f"{flow_id}: generated by bench.seed.",
            "decorators": [], "extensions": {"installed": {}}}


def flow_source(flow_id: str, steps: list[Step], params: tuple[str, ...]) -> str:
    lines = ["from metaflow import FlowSpec, Parameter, step, retry", "", "",
             f"class {flow_id}(FlowSpec):"]
    lines += [f"    {p} = Parameter({p!r})" for p in params]
    for s in steps:
        kids = [t.name for t in steps if s.name in t.parents]
        lines += ["", *([f"    @retry(times={s.retry})"] if s.retry else []), "    @step",
                  f"    def {s.name}(self{', inputs' if s.kind == 'join' else ''}):"]
        if s.kind == "split-foreach":
            lines += ["        self.items = list(range(10))", f"        self.next(self.{kids[0]}, foreach='items')"]
        elif kids:
            lines.append("        self.next(" + ", ".join(f"self.{k}" for k in kids) + ")")
        else:
            lines.append("        print('done')")
    lines += ["", "", "if __name__ == '__main__':", f"    {flow_id}()", ""]
    return "\n".join(lines)


def _flow(rng: random.Random, flow_id: str, shape: str, tasks_per_run: int, n_users: int,
          huge: bool = False) -> Flow:
    steps = _steps_for(shape, tasks_per_run, retry_body=rng.choice([0, 2, 3]) if not huge else 2)
    params = tuple(rng.sample(["alpha", "epochs", "dataset", "batch_size", "region", "limit"],
                              rng.randint(0, 3)))
    file_name = "".join("_" + c.lower() if c.isupper() else c for c in flow_id).lstrip("_") + ".py"
    dag = json.dumps(graph_info(flow_id, file_name, steps, params), separators=(",", ":"))
    step_ms = tuple(rng.lognormvariate(9.5, 1.2) for _ in steps)   # median ~13 s, long tail
    return Flow(flow_id, shape, tuple(steps), esc(dag), file_name,
                esc(flow_source(flow_id, steps, params)), params, step_ms, rng.randrange(n_users))


@dataclass(frozen=True)
class World:
    flows: tuple[Flow, ...]        # most popular first
    flow_cum: list[float]
    users: tuple[str, ...]
    user_cum: list[float]
    tags: tuple[str, ...]
    tag_cum: list[float]
    huge: Flow


def make_world(rng: random.Random, tasks_per_run: int, n_flows: int = 40, n_users: int = 60) -> World:
    if tasks_per_run < 2:
        raise ValueError("--tasks-per-run must be at least 2 (a start and an end step)")
    names = [v + k for k in _KINDS for v in _VERBS]
    rng.shuffle(names)
    shapes = ["linear", "foreach"] + (["branch"] if tasks_per_run >= 5 else [])
    flows = tuple(_flow(rng, names[i % len(names)] + ("" if i < len(names) else str(i)),
                        rng.choice(shapes) if tasks_per_run >= 4 else "linear", tasks_per_run, n_users)
                  for i in range(n_flows))
    users = tuple(f"{_FIRST[i % len(_FIRST)]}.{_LAST[i // len(_FIRST) % len(_LAST)]}"
                  + (str(i // 60) if i >= 60 else "") for i in range(n_users))
    tags = tuple(_TAG_WORDS) + tuple(f"exp-{i:03d}" for i in range(80)) + tuple(
        f"team:{t}" for t in ["ml", "data", "search", "ads", "risk", "infra"])
    tags = tuple(rng.sample(tags, len(tags)))
    # Fixed step times for the huge run, so 100,000 splits on 256 workers finish in hours, not days.
    huge = replace(_flow(rng, HUGE_FLOW, "foreach", 4, n_users, huge=True),
                   step_ms=(4_000.0, 30_000.0, 60_000.0, 2_000.0))
    return World(flows, zipf_cum(len(flows), 1.1), users, zipf_cum(len(users), 1.0), tags,
                 zipf_cum(len(tags), 1.2), huge)
