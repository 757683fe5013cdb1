// Shapes of /api/-/plugins (docs/api.md, Plugins) and of what a slot knows about its page.
import type { MetadataEntry, Run, Task } from "../api/types";

export type SlotName = "run-header" | "task-details" | "run-tab" | "home-header";

export interface LinkSpec {
  label: string;
  url: string;
  slots?: SlotName[];
}

export interface Manifest {
  id: string;
  name: string;
  version: string;
  description?: string;
  kind: "panel" | "link";
  slots: SlotName[];
  entry?: string;
  title?: string;
  height?: number;
  links?: LinkSpec[];
}

export interface PluginInfo {
  id: string;
  folder: string;
  source: string;
  enabled: boolean;
  error: string | null;
  manifest?: Manifest;
  entry_url?: string;
}

export interface PluginList {
  data: PluginInfo[];
  allow_same_origin: boolean;
}

/** What the page around a slot is about: nothing (home), a run, or a task of a run. */
export interface SlotContext {
  run?: Run | null;
  task?: Task | null;
  metadata?: MetadataEntry[] | null;
}
