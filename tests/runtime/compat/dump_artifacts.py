"""Print every task's artifacts of a run as JSON: ``python dump_artifacts.py PACKAGE FLOW RUN_ID``.

PACKAGE is ``core_runtime`` or ``metaflow``: the same code reads a run through either client,
so the two runtimes' results can be compared. Values are reduced to JSON (tuples as lists,
sets sorted, bytes as hex, a stored exception as its type and message); artifacts whose
names start with ``_`` and ``name`` are Metaflow bookkeeping and left out.
"""

import importlib
import json
import sys


def plain(value):
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": bytes(value).hex()}
    if hasattr(value, "type") and hasattr(value, "exception"):
        return {"exception": [value.type, str(value.exception)]}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return {"repr": repr(value)}


def main():
    package, flow, run_id = sys.argv[1:4]
    client = importlib.import_module(package)
    client.namespace(None)
    out = {}
    for step in client.Run(f"{flow}/{run_id}"):
        tasks = []
        for task in step:
            arts = {a.id: plain(a.data) for a in task if not a.id.startswith("_") and a.id != "name"}
            tasks.append(json.dumps(arts, sort_keys=True))
        out[step.id] = sorted(tasks)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
