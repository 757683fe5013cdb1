// Shapes of the Flowscope REST API and its live events, named for the UI. Every one is an alias
// of a type generated from the backend's OpenAPI document (schema.gen.ts, `make api-types`), so
// the UI cannot drift from what the server sends; nothing here is written by hand.
import type { components } from "./schema.gen";

type Schemas = components["schemas"];

export type Status = Schemas["Run"]["status"];
export type TaskCounts = Schemas["TaskCounts"];
export type Run = Schemas["Run"];
export type RunDetail = Schemas["RunDetail"];
export type RunGroup = Schemas["RunGroup"];
export type Decorator = Schemas["Decorator"];
export type Step = Schemas["Step"];
export type Dag = Schemas["Dag"];
export type Attempt = Schemas["Attempt"];
export type Task = Schemas["Task"];
export type Artifact = Schemas["Artifact"];
export type ArtifactValue = Schemas["ArtifactValue"];
export type MetadataEntry = Schemas["MetadataField"];
export type Card = Schemas["Card"];
export type LogLine = Schemas["LogLine"];
export type LogPage = ListPage<LogLine> & Schemas["LogPageInfo"];
export type TimelineLane = Schemas["TimelineLane"];
export type TimelineGroup = Schemas["TimelineGroup"];
export type Timeline = Schemas["Timeline"];
/** A bar: [start, end|null, status, attempt]. */
export type TimelineBar = NonNullable<TimelineLane["bars"]>[number];
/** A segment: [start, end, dominant status, tasks, {status: tasks}]. */
export type TimelineSegment = NonNullable<TimelineLane["segments"]>[number];
export type SearchHit = Schemas["SearchMatch"];
export type SearchDone = Schemas["SearchDone"];
export type SearchLine = Schemas["SearchLine"];
export type Comparison = Schemas["Comparison"];
export type PluginEntry = Schemas["Plugin"];
export type FailureDigest = Schemas["FailureDigest"];
export type FailureGroup = Schemas["FailureGroup"];
export type StatusExplanation = Schemas["StatusExplanation"];
export type CriticalPath = Schemas["CriticalPath"];
export type RunDurations = Schemas["RunDurations"];
export type StepDurations = Schemas["StepDurations"];
export type LogDiff = Schemas["LogDiff"];
export type RunSummary = Schemas["RunSummary"];
export type ServiceStatus = Schemas["Status"];
export type MirrorState = Schemas["MirrorState"];
/** An autocomplete suggestion: a flow, Flow/Run, step, tag, user or task id. */
export type Suggestion = Schemas["Suggestion"];

/** Every list answer: a page of items and the cursor of the next page. */
export interface ListPage<T> {
  data: T[];
  next: string | null;
}

/** The live feeds (docs/api.md, Websocket) and what their events carry. */
export type LiveFeeds = Schemas["LiveFeeds"];
export type FeedName = keyof LiveFeeds;
