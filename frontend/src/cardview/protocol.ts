// Messages between the app (parent) and a card frame. The frame runs in a sandbox without
// allow-same-origin (an opaque origin): postMessage is the only channel, and each side only
// listens to the other's window.

import type { CardState } from "./doc";

export const SOURCE = "flowscope-card";

/** Parent → frame. */
export type ToFrame =
  | { source: typeof SOURCE; type: "state"; state: CardState }
  | { source: typeof SOURCE; type: "components"; reload_token: string | null; data: Record<string, unknown>; seq?: number | null; final?: boolean; updated_at?: number | null }
  | { source: typeof SOURCE; type: "theme"; theme: "light" | "dark" }
  | { source: typeof SOURCE; type: "scroll"; y: number };

/** Frame → parent. */
export type FromFrame =
  | { source: typeof SOURCE; type: "ready"; seq: number | null; reload_token: string | null; charts: boolean }
  | { source: typeof SOURCE; type: "rendered"; seq: number | null; updated_at: number | null; painted_at: number }
  | { source: typeof SOURCE; type: "scrolled"; y: number }
  | { source: typeof SOURCE; type: "reload"; reason: string }
  | { source: typeof SOURCE; type: "problem"; message: string };

export function fromFrame(data: unknown): FromFrame | null {
  if (typeof data !== "object" || data === null) return null;
  const m = data as { source?: unknown; type?: unknown };
  return m.source === SOURCE && typeof m.type === "string" ? (data as FromFrame) : null;
}

export function toFrame(data: unknown): ToFrame | null {
  if (typeof data !== "object" || data === null) return null;
  const m = data as { source?: unknown; type?: unknown };
  return m.source === SOURCE && typeof m.type === "string" ? (data as ToFrame) : null;
}

/** A frame message before the `source` tag is added. */
export type FrameMessage = FromFrame extends infer T ? (T extends unknown ? Omit<T, "source"> : never) : never;

/** A parent message before the `source` tag is added. */
export type ParentMessage = ToFrame extends infer T ? (T extends unknown ? Omit<T, "source"> : never) : never;
