"""``python -m bench.plans``: EXPLAIN (ANALYZE, BUFFERS) the UI's query shapes on a seeded database.

Prints one line per query (plan nodes, median time of several runs, buffers) and exits 1 if any
plan scans ``runs`` or ``tasks`` sequentially or takes longer than the budget (50 ms).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.plan_queries import SHAPES, Shape, find_arguments
from contract.pg import DatabaseError, connect_writer
from contract.settings import SettingsError, load_settings

BUDGET_MS = 50.0
BIG_TABLES = ("runs", "tasks")


@dataclass(frozen=True)
class Result:
    name: str
    plan: str
    ms: float            # median of the timed runs (planning + execution)
    first_ms: float      # the first run, colder caches
    buffers: int         # shared blocks hit + read, last run
    problems: list[str]


def summarize(node: dict[str, Any]) -> str:
    """'Limit > Index Scan runs_created' — node types with their index or table, children nested."""
    label = str(node["Node Type"])
    target = node.get("Index Name") or node.get("Relation Name")
    if target:
        label += f" {target}"
    kids = [summarize(k) for k in node.get("Plans", [])]
    if not kids:
        return label
    return f"{label} > {kids[0]}" if len(kids) == 1 else f"{label} > ({'; '.join(kids)})"


def seq_scans(node: dict[str, Any]) -> list[str]:
    found = []
    if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in BIG_TABLES:
        found.append(node["Relation Name"])
    for kid in node.get("Plans", []):
        found += seq_scans(kid)
    return found


def explain(cur: Any, shape: Shape, args: dict[str, Any], repeat: int) -> Result:
    times: list[float] = []
    plan: dict[str, Any] = {}
    for _ in range(repeat):
        cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + shape.sql, args)
        doc = cur.fetchone()[0]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        plan = doc[0]
        times.append(plan["Planning Time"] + plan["Execution Time"])
    top = plan["Plan"]
    ms = statistics.median(times[1:] if len(times) > 1 else times)
    problems = [f"Seq Scan on {t}" for t in seq_scans(top)]
    if ms > BUDGET_MS:
        problems.append(f"{ms:.1f} ms > {BUDGET_MS:.0f} ms")
    buffers = int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))
    return Result(shape.name, summarize(top), ms, times[0], buffers, problems)


def render(results: list[Result], markdown: bool) -> str:
    if markdown:
        lines = ["| query | plan | ms (median) | ms (first) | buffers | ok |", "| --- | --- | ---: | ---: | ---: | --- |"]
        lines += [f"| {r.name} | `{r.plan}` | {r.ms:.2f} | {r.first_ms:.2f} | {r.buffers} | "
                  f"{'yes' if not r.problems else 'NO: ' + ', '.join(r.problems)} |" for r in results]
        return "\n".join(lines)
    w = max(len(r.name) for r in results)
    lines = [f"{'query':<{w}}  {'ms':>8}  {'first':>8}  {'bufs':>7}  plan"]
    for r in results:
        flag = "" if not r.problems else "   <-- " + ", ".join(r.problems)
        lines.append(f"{r.name:<{w}}  {r.ms:8.2f}  {r.first_ms:8.2f}  {r.buffers:7d}  {r.plan}{flag}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.plans", description=__doc__.splitlines()[0])
    p.add_argument("--dsn", help="writer DSN (default: the settings', i.e. FLOWSCOPE_DSN or the embedded server)")
    p.add_argument("--repeat", type=int, default=5, help="runs per query; the first is reported apart")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table (for docs/scale.md)")
    args = p.parse_args(argv)
    try:
        conn = connect_writer(load_settings(dsn=args.dsn))
    except (DatabaseError, SettingsError) as exc:
        print(f"bench.plans: {exc}", file=sys.stderr)
        return 1
    conn.autocommit = True
    with conn.cursor() as cur:
        try:
            qargs = find_arguments(cur)
        except LookupError as exc:
            print(f"bench.plans: {exc}", file=sys.stderr)
            return 1
        results = [explain(cur, s, qargs, max(1, args.repeat)) for s in SHAPES]
    conn.close()
    print(render(results, args.markdown))
    bad = [r for r in results if r.problems]
    if bad:
        print(f"\n{len(bad)} of {len(results)} queries fail: " + "; ".join(
            f"{r.name} ({', '.join(r.problems)})" for r in bad), file=sys.stderr)
        return 1
    print(f"\nall {len(results)} queries use indexes and take <= {BUDGET_MS:.0f} ms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
