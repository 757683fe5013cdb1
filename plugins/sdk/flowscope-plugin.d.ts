// Types of the Flowscope plugin SDK (flowscope-plugin.js). Protocol version 1.

export type Slot = "run-header" | "task-details" | "run-tab" | "home-header";

export interface PluginContext {
  protocol: 1;
  plugin: { id: string; version: string };
  slot: Slot;
  /** The API path of what the slot shows (e.g. /api/flows/F/runs/12), or null on the home page. */
  resource: string | null;
  pathspec: string | null;
  run: Record<string, unknown> | null;
  task: Record<string, unknown> | null;
  theme: "light" | "dark";
}

export interface LiveEvent {
  type: "insert" | "update";
  id: string;
  resource: string;
  data: Record<string, unknown>;
  seq?: number;
}

export interface FlowscopePlugin {
  /** Resolves with the context once the host has answered `ready`. Called again on every change. */
  ready(onContext?: (ctx: PluginContext) => void): Promise<PluginContext>;
  /** Live inserts/updates of an API resource, through the host's websocket. Returns unsubscribe. */
  subscribe(resource: string, handler: (event: LiveEvent) => void): () => void;
  /** A GET of the Flowscope API (path must start with /api/), done by the host. */
  get<T = unknown>(path: string): Promise<T>;
  /** Asks the host to make the iframe this tall (px, clamped by the host). */
  setHeight(px: number): void;
  /** Makes the iframe as tall as the document's content, now and whenever it changes. */
  autoHeight(): void;
  /** A toast in the host UI. */
  notify(message: string, level?: "info" | "error"): void;
  /** Asks the host to open an in-app path such as /Flow/12/train; anything else is refused. */
  navigate(path: string): void;
}

declare global {
  interface Window {
    flowscope: FlowscopePlugin;
  }
}
