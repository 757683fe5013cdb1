"""The run summary: one answer for agents and notebooks (status and why, failures, slowest
steps, critical path, links to every view), as JSON and as Markdown."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from backend.resources.schema import STR, arr, mapping, nullable, obj, ref

TOP_GROUPS = 10
TOP_STEPS = 5

SCHEMAS = {
    "RunSummary": obj({
        "run": ref("Run"), "status": ref("StatusExplanation"),
        "failures": ref("FailureDigest"), "slowest_steps": arr(ref("StepDurations")),
        "critical_path": ref("CriticalPath"), "last_good_run": nullable(STR),
        "links": {**mapping(STR), "description": "Name → absolute URL of every view of the run."},
    }, description="Everything about a run in one call: status with its reason, the failure digest "
                   f"(first {TOP_GROUPS} groups), the {TOP_STEPS} slowest steps, the critical path, the "
                   "last successful run before it, and links. ?format=md answers the same as Markdown."),
}


def links(base: str, run: dict[str, Any], last_good: str | None, groups: list[dict[str, Any]]) -> dict[str, str]:
    flow, rid = quote(run["flow_id"], safe=""), quote(run["run_id"], safe="")
    page = f"{base}/{flow}/{rid}"
    out = {"run": page, "timeline": f"{page}?tab=timeline", "critical_path": f"{page}?tab=timeline&cp=1",
           "dag": f"{page}?tab=dag", "triage": f"{page}?tab=triage", "search": f"{page}?tab=search",
           "api_run": f"{base}/api/flows/{flow}/runs/{rid}",
           "api_summary": f"{base}/api/flows/{flow}/runs/{rid}/summary",
           "api_failures": f"{base}/api/flows/{flow}/runs/{rid}/failures"}
    if last_good is not None:
        a = f"{run['flow_id']}/{last_good}"
        b = f"{run['flow_id']}/{run['run_id']}"
        out["compare_last_good"] = f"{base}/-/compare?a={quote(a, safe='/')}&b={quote(b, safe='/')}&logs=1"
    for g in groups:
        out[f"failure_{g['signature']}"] = base + g["example"]["url"]
    return out


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _ms(ms: float | None) -> str:
    if ms is None:
        return "–"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 120_000:
        return f"{ms / 1000:.1f} s"
    if ms < 7_200_000:
        return f"{ms / 60_000:.1f} min"
    return f"{ms / 3_600_000:.1f} h"


def _when(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ms else "–"


def markdown(summary: dict[str, Any]) -> str:
    run, why, digest, cp = summary["run"], summary["status"], summary["failures"], summary["critical_path"]
    counts = run["task_counts"]
    link = summary["links"]
    out = [f"# {run['pathspec']}: {run['status']}", "", f"**Why:** {why['summary']}", ""]
    out.append(f"- Started {_when(run['started_at'])}, finished {_when(run['finished_at'])}, "
               f"took {_ms(run['duration_ms'])}")
    out.append(f"- Tasks: {counts['total']} ({counts['completed']} completed, {counts['failed']} failed, "
               f"{counts['running']} running, {counts['pending']} pending)")
    out.append(f"- User: {run['user'] or '–'}; tags: {', '.join(run['tags']) or '–'}; source: {run['source']}")
    if summary["last_good_run"]:
        out.append(f"- Last successful run before it: {run['flow_id']}/{summary['last_good_run']} "
                   f"([compare]({link['compare_last_good']}))")
    out += ["", "Evidence:", ""]
    out += [f"- {e['label']}: {e['value']}" for e in why["evidence"]]
    out += ["", f"## Failures ({digest['failed_tasks']} failed tasks, {digest['retried_attempts']} retried "
                f"attempts, {len(digest['groups'])} signatures)", ""]
    if digest["groups"]:
        out += ["| # | tasks | retried | error | where | steps | first seen | example |",
                "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for i, g in enumerate(digest["groups"], 1):
            where = f"{g['frame']['file'].rsplit('/', 1)[-1]}:{g['frame']['line']} in {g['frame']['function']}" \
                if g["frame"] else "–"
            error = f"{g['exception_type']}: {g['example_message']}" if g["exception_type"] else g["example_message"]
            seen = "this run" if g["first_seen_run"] == run["run_id"] else f"run {g['first_seen_run']}"
            steps = ", ".join(s["step_name"] for s in g["steps"])
            ex = g["example"]
            out.append(f"| {i} | {g['count']} | {g['retried']} | {_cell(error[:200])} | {_cell(where)} | "
                       f"{_cell(steps)} | {seen} | [{ex['step_name']}/{ex['task_id']}]"
                       f"({link['failure_' + g['signature']]}) |")
    else:
        out.append("No failed tasks.")
    out += ["", "## Slowest steps", "", "| step | tasks | wall | p50 | p95 | max |", "| --- | --- | --- | --- | --- | --- |"]
    for s in summary["slowest_steps"]:
        out.append(f"| {_cell(s['step_name'])} | {s['tasks']} | {_ms(s['wall_ms'])} | {_ms(s['p50_ms'])} | "
                   f"{_ms(s['p95_ms'])} | {_ms(s['max_ms'])} |")
    out += ["", f"## Critical path ({_ms(cp['path_ms'])} of running time, {_ms(cp['queued_ms'])} queued; "
                f"wall {_ms(cp['wall_ms'])}, idle {_ms(cp['idle_ms'])})", ""]
    for i, t in enumerate(cp["tasks"], 1):
        fv = f" [{t['foreach_value']}]" if t["foreach_value"] is not None else ""
        out.append(f"{i}. {t['step_name']}/{t['task_id']}{fv}: {_ms(t['duration_ms'])}"
                   + (f" (queued {_ms(t['queued_ms'])})" if t["queued_ms"] else ""))
    out += ["", "## Links", ""]
    out += [f"- {name}: {url}" for name, url in link.items()]
    return "\n".join(out) + "\n"
