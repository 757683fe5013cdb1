// Task view: the run's task list on the left; on the right the task (attempt selector, info,
// traceback) and its logs, artifacts, metadata and cards. Attempt, panel, stream and line are in the URL.
import { useCallback, useMemo, useRef } from "react";
import { Link } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { apiUrl } from "../api/client";
import { patchTask, useDag } from "../api/runDetail";
import { taskPath, useTask, type TaskRef } from "../api/task";
import { useLiveResource } from "../live/useLive";
import { useHeartbeatRecheck } from "../live/heartbeatRecheck";
import { formatLocation, formatPath, type TaskPanel } from "../nav/viewState";
import { useView } from "../nav/useView";
import { ErrorBox, Loading, isNotFound } from "../ui/states";
import { LogView } from "../logs/LogView";
import { TaskList } from "./TaskList";
import { TaskInfo } from "./TaskInfo";
import { ArtifactsPanel, CardsPanel, MetadataPanel } from "./TaskPanels";

const PANELS: [TaskPanel | "stdout" | "stderr", string][] = [["stdout", "stdout"], ["stderr", "stderr"], ["artifacts", "Artifacts"], ["metadata", "Metadata"], ["cards", "Cards"]];

/** The 404 is the run's (a mistyped run id in a task's pathspec), not the task's: the way back is
 * the flow's run list, not that run. */
function runMissing(error: unknown): boolean {
  return isNotFound(error) && error instanceof Error && error.message.startsWith("run ");
}

export function TaskPage() {
  const [view, setView] = useView();
  const client = useQueryClient();
  const { flow, run, step, task: taskId } = view.path as { flow: string; run: string; step: string; task: string };
  const ref: TaskRef = { flow, run, step, task: taskId };
  const task = useTask(ref);
  const dag = useDag(flow, run);
  const stepInfo = dag.data?.steps.find((s) => s.step_name === step);
  useLiveResource("tasks", task.isSuccess ? apiUrl(taskPath(ref)) : null, task.data?.seq ?? null, (e) => patchTask(client, e.data));

  // A task whose process dies turns "heartbeat lost" with no event: re-ask it once it falls silent.
  const shown = useMemo(() => (task.data ? [task.data] : undefined), [task.data]);
  useHeartbeatRecheck(shown, task.dataUpdatedAt, task.refetch);

  const k = view.task;
  const setTask = useCallback((patch: Partial<typeof k>, replace = true) =>
    setView((s) => ({ ...s, task: { ...s.task, ...patch } }), { replace }), [setView]);
  const onToggle = useCallback((key: "timestamps" | "wrap") =>
    setView((s) => ({ ...s, task: { ...s.task, [key]: !s.task[key] } }), { replace: true }), [setView]);
  const onLines = useCallback((lines: [number, number] | null) => setTask({ lines }, false), [setTask]);

  const attempts = task.data?.attempts ?? [];
  const attemptNo = k.attempt ?? task.data?.attempt ?? null;
  const attempt = attempts.find((a) => a.attempt === attemptNo) ?? attempts[attempts.length - 1] ?? null;
  const effectiveAttempt = attempt?.attempt ?? attemptNo;
  // The log does not wait for the task: without an attempt in the URL it asks for the latest (the
  // server's default), in parallel with the task. It reloads when a new attempt starts while it is
  // shown, or when the task shows that the URL's attempt does not exist (then the latest is shown).
  const latest = task.data?.attempt ?? null;
  const seenLatest = useRef<number | null>(null);
  const latestGen = useRef(0);
  if (latest !== null) {
    if (seenLatest.current !== null && seenLatest.current !== latest) latestGen.current += 1;
    seenLatest.current = latest;
  }
  const badAttempt = k.attempt !== null && attempts.length > 0 && !attempts.some((a) => a.attempt === k.attempt);
  const logAttempt = badAttempt ? effectiveAttempt : k.attempt;
  const active = k.panel === "logs" ? k.stream : k.panel;

  return (
    <div className="task-layout">
      <TaskList flow={flow} run={run} step={step} task={taskId} />
      <section className="task-main">
        {task.isPending ? <Loading label="Loading task" /> : task.isError ? (
          <ErrorBox error={task.error} retry={() => void task.refetch()} back={runMissing(task.error)
            ? { to: formatPath({ flow }), label: `Back to ${flow}'s runs` }
            : { to: formatPath({ flow, run }), label: `Back to run ${flow}/${run}` }} />
        ) : (
          <TaskInfo task={task.data} attempt={attempt} step={stepInfo} onAttempt={(a) => setTask({ attempt: a, lines: null }, false)} />
        )}
        {/* A task that could not be read (a deep link to one that does not exist) has no panels. */}
        {!task.isError && <>
          <div className="tabs" role="tablist">
            {PANELS.map(([p, label]) => {
              const next = p === "stdout" || p === "stderr" ? { panel: "logs" as const, stream: p } : { panel: p };
              return (
                <Link key={p} role="tab" aria-selected={active === p} data-tab={p} replace
                  to={formatLocation({ ...view, task: { ...k, ...next, lines: p === k.stream ? k.lines : null } })}>{label}</Link>
              );
            })}
          </div>
          {k.panel === "logs" && (
            <LogView key={`${k.stream}-${logAttempt ?? `latest-${latestGen.current}`}`} task={ref} stream={k.stream} attempt={logAttempt}
              timestamps={k.timestamps} wrap={k.wrap} lines={k.lines} onLines={onLines} onToggle={onToggle} />
          )}
          {k.panel === "artifacts" && <ArtifactsPanel task={ref} attempt={effectiveAttempt} />}
          {k.panel === "metadata" && <MetadataPanel task={ref} />}
          {k.panel === "cards" && <CardsPanel task={ref} attempt={effectiveAttempt} />}
        </>}
      </section>
    </div>
  );
}
