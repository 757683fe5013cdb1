"""Run a flow file under pip ``metaflow`` (import line swapped) and read back every task's artifacts,
so a test can compare them with what core_runtime recorded for the same file.

Tasks are keyed by where they sit in the run, which both runtimes agree on: (step, foreach indices,
iteration stack). Values are compared by ``repr``. Metaflow's client is used in a child process
(its configuration is read from the environment at import time).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.runtime.dual_runtime import as_metaflow, metaflow_env

TaskKey = tuple[str, tuple[int, ...], tuple[int, ...]]
Snapshot = dict[TaskKey, dict[str, str]]

# Bookkeeping only one runtime has: Metaflow's "name" (the flow name) and underscore artifacts.
IGNORED = {"name"}

_READER = r"""
import json, sys
from metaflow import Run, namespace
namespace(None)
out = []
for step in Run(sys.argv[1]):
    for task in step:
        names = [a.id for a in task]
        stack, loops = [], []
        try:
            stack = task["_foreach_stack"].data or []
            loops = task["_iteration_stack"].data or []
        except KeyError:      # runs of metaflow < 2.17.4 had no _iteration_stack
            pass
        origin = task.metadata_dict.get("origin-task-id")
        values = {n: repr(task[n].data) for n in names if not n.startswith("_")}
        out.append({"step": step.id, "index": [f.index for f in stack], "iteration": list(loops),
                    "values": values, "cloned": origin not in (None, "None")})
print(json.dumps(out))
"""


class MetaflowRunner:
    """One directory per test: the flow files (import swapped), Metaflow's datastore, run ids."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {**metaflow_env(home), "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(home / "ds")}
        self.calls = 0

    def run(self, flow: Path, *args: str, extra_env: dict[str, str] | None = None,
            ok: bool = True) -> tuple[subprocess.CompletedProcess[str], str | None]:
        path = self.home / flow.name
        if not path.exists():
            path.write_text(as_metaflow(flow.read_text()))
        self.calls += 1
        id_file = self.home / f"run-id-{self.calls}"
        cmd = [sys.executable, str(path), "--no-pylint", *args, "--run-id-file", str(id_file)]
        proc = subprocess.run(cmd, check=False, cwd=self.home, env={**self.env, **(extra_env or {})},
                              capture_output=True, text=True, timeout=300)
        if ok:
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc, (id_file.read_text() if id_file.exists() else None)

    def snapshot(self, pathspec: str) -> tuple[Snapshot, set[TaskKey]]:
        """Artifacts per task, and which tasks a resume cloned."""
        proc = subprocess.run([sys.executable, "-c", _READER, pathspec], check=False, cwd=self.home,
                              env=self.env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        snap: Snapshot = {}
        cloned: set[TaskKey] = set()
        for task in json.loads(proc.stdout):
            key = (task["step"], tuple(task["index"]), tuple(task["iteration"]))
            snap[key] = {k: v for k, v in task["values"].items() if k not in IGNORED}
            if task["cloned"]:
                cloned.add(key)
        return snap, cloned


def core_snapshot(pathspec: str) -> tuple[Snapshot, set[TaskKey]]:
    """The same view of a core_runtime run, through our client (configured by the caller)."""
    from core_runtime import Run

    snap: Snapshot = {}
    cloned: set[TaskKey] = set()
    for step in Run(pathspec):
        for task in step:
            key = (step.id, tuple(int(f["index"]) for f in task.foreach_stack or []),
                   tuple(task.iteration_stack))
            snap[key] = {a.id: repr(a.data) for a in task.artifacts if a.id not in IGNORED}
            if task.cloned_from:
                cloned.add(key)
    return snap, cloned


def differences(ours: Snapshot, theirs: Snapshot) -> list[str]:
    """Readable differences (empty when the runs agree task by task, artifact by artifact)."""
    out = []
    for key in sorted(set(ours) | set(theirs)):
        if key not in ours:
            out.append(f"{key}: only metaflow ran it")
        elif key not in theirs:
            out.append(f"{key}: only core_runtime ran it")
        elif ours[key] != theirs[key]:
            names = sorted(set(ours[key]) | set(theirs[key]))
            diff = {n: (ours[key].get(n), theirs[key].get(n)) for n in names
                    if ours[key].get(n) != theirs[key].get(n)}
            out.append(f"{key}: (core_runtime, metaflow) differ: {diff}")
    return out

