"""The timeline of a run: lanes of task attempts (one task per lane) or of aggregated segments
(many tasks per lane, level of detail); the schema of its answer (docs/api.md, Timeline)."""

from __future__ import annotations

from backend.resources.schema import BOOL, INT, NUM, STATUS, STR, arr, mapping, nullable, obj, ref

# [start, end (null while running), status, attempt]
BAR = {"type": "array", "prefixItems": [INT, nullable(INT), STATUS, INT],
       "minItems": 4, "maxItems": 4}
# [start, end, dominant status, tasks in the busiest bucket, {status: tasks}]
SEGMENT = {"type": "array", "prefixItems": [INT, INT, STATUS, INT, mapping(INT)], "minItems": 5, "maxItems": 5}

SCHEMAS = {
    "TimelineTask": obj({"task_id": STR, "step_name": STR, "foreach_value": nullable(STR),
                         "iteration": nullable(INT), "status": STATUS, "pathspec": STR, "host": nullable(STR)},
                        description="iteration: the task's 0-based iteration of a recursive step (null "
                                    "outside a loop). host: where the task's latest attempt ran (set with "
                                    "group=host)."),
    "TimelineLane": obj({"row": INT, "task": nullable(ref("TimelineTask"))},
                        optional={"bars": arr(BAR), "segments": arr(SEGMENT)},
                        description="One task's attempts as bars, or (task null) the segments of "
                                    "tasks_per_lane tasks."),
    "TimelineGroup": obj({"step_name": nullable(STR), "host": nullable(STR), "row_start": INT, "row_count": INT,
                          "recursive": BOOL},
                         description="step_name with group=step; host with group=host (null: none recorded). "
                                     "recursive: the step loops; its tasks are the loop's iterations."),
    "Timeline": obj({"start": INT, "end": INT, "width": INT, "bucket_ms": NUM, "total_rows": INT,
                     "row_start": INT, "tasks_per_lane": INT, "groups": arr(ref("TimelineGroup")),
                     "lanes": arr(ref("TimelineLane"))}),
}
