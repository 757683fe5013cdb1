// Shapes of /api/-/plugins (docs/api.md, Plugins; generated from OpenAPI and the manifest's JSON
// Schema) and of what a slot knows about its page.
import type { ListPage, MetadataEntry, PluginEntry, Run, Task } from "../api/types";

export type Manifest = NonNullable<PluginEntry["manifest"]>;
export type SlotName = Manifest["slots"][number];
export type LinkSpec = NonNullable<Manifest["links"]>[number];
export type PluginInfo = PluginEntry;
export type PluginList = ListPage<PluginEntry> & { allow_same_origin: boolean };

/** What the page around a slot is about: nothing (home), a run, or a task of a run. */
export interface SlotContext {
  run?: Run | null;
  task?: Task | null;
  metadata?: MetadataEntry[] | null;
}
