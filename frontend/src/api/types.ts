// Shapes of the Flowscope REST API (docs/api.md). Times are epoch ms.

export type Status = "pending" | "running" | "completed" | "failed";

export interface TaskCounts {
  total: number;
  pending: number;
  running: number;
  completed: number;
  failed: number;
}

export interface Run {
  flow_id: string;
  run_id: string;
  run_number: number | null;
  pathspec: string;
  user: string | null;
  tags: string[];
  system_tags: string[];
  source?: string;
  status: Status;
  status_reason: string | null;
  failed_step?: string | null;
  origin_run_id?: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  duration_ms: number | null;
  heartbeat_at?: number | null;
  parameters: Record<string, unknown>;
  task_counts?: TaskCounts;
  seq?: number;
}

export interface Decorator {
  name: string;
  attributes: Record<string, unknown>;
}

export interface Step {
  step_name: string;
  type: string | null;
  next: string[];
  doc: string | null;
  decorators: Decorator[];
  line: number | null;
  foreach_artifact?: string | null;
  matching_join?: string | null;
  status?: Status | null;
  started_at?: number | null;
  finished_at?: number | null;
  duration_ms?: number | null;
  task_counts?: TaskCounts;
}

export interface Dag {
  start_step: string;
  end_step: string;
  doc: string | null;
  file: string | null;
  graph_structure: unknown[];
  steps: Step[];
}

export interface Attempt {
  attempt: number;
  status: Status;
  status_reason: string | null;
  started_at: number | null;
  finished_at: number | null;
  duration_ms: number | null;
  exit_code?: number | null;
  exception_type?: string | null;
  exception_message?: string | null;
  traceback?: string | null;
}

export interface Task {
  flow_id: string;
  run_id: string;
  step_name: string;
  task_id: string;
  pathspec: string;
  status: Status;
  status_reason: string | null;
  attempt: number;
  foreach_index?: number | null;
  foreach_value?: string | null;
  parent_task_ids?: string[];
  cloned_from?: string | null;
  created_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  duration_ms: number | null;
  heartbeat_at?: number | null;
  attempts?: Attempt[];
  decorators?: Decorator[];
  resources?: Record<string, unknown>;
  seq?: number;
}

export interface Artifact {
  name: string;
  type: string | null;
  size: number | null;
  sha: string | null;
  attempt: number;
  preview: string | null;
}

export interface MetadataEntry {
  field_name: string;
  value: string;
  type?: string | null;
  attempt?: number | null;
  created_at?: number | null;
}

export interface Card {
  card_id: string;
  type?: string | null;
  attempt?: number | null;
  size?: number | null;
  created_at?: number | null;
  /** The card's HTML (served with a sandboxing CSP). */
  url?: string;
}

/** `/artifacts/{name}`: the artifact row plus a value rendered by the backend's worker. */
export interface ArtifactValue extends Artifact {
  value: { text?: string; truncated?: boolean; json?: unknown; type?: string } | null;
  render_error?: string | null;
}

export interface LogLine {
  line: number;
  ts: number | null;
  text: string;
}

export interface LogPage {
  data: LogLine[];
  next: string | null;
  total_lines: number;
  complete: boolean;
  /** The attempt answered (the task's latest when none was asked for). */
  attempt?: number;
}

export interface ListPage<T> {
  data: T[];
  next: string | null;
}

/** A bar: [start, end|null, status, attempt]. A segment: [start, end, status, count]. */
export type TimelineBar = [number, number | null, Status, number];

export interface TimelineLane {
  row: number;
  task: {
    task_id: string;
    step_name: string;
    foreach_value: string | null;
    status: Status;
    pathspec: string;
  } | null;
  bars?: TimelineBar[];
  segments?: TimelineBar[];
}

export interface TimelineGroup {
  step_name: string;
  row_start: number;
  row_count: number;
}

export interface Timeline {
  start: number;
  end: number;
  width: number;
  bucket_ms: number;
  total_rows: number;
  row_start: number;
  tasks_per_lane: number;
  groups: TimelineGroup[];
  lanes: TimelineLane[];
}

export interface SearchHit {
  pathspec?: string;
  step_name: string;
  task_id: string;
  stream: "stdout" | "stderr";
  attempt?: number;
  line: number;
  text: string;
}
