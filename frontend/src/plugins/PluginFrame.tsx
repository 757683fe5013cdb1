// The host side of a panel plugin: a sandboxed iframe and the postMessage protocol of
// plugins/sdk/flowscope-plugin.js. The panel is untrusted: messages are accepted only from this
// iframe's window, and every request (API read, live subscription, navigation) is checked first.
import { useEffect, useRef, useState } from "react";
import { useNavigate } from "react-router";
import { getJson } from "../api/client";
import { liveSocket } from "../live/socket";
import { clampHeight, safeApiPath, safeNavigatePath } from "./hostRules";
import { pushToast } from "./toasts";
import type { PluginInfo, SlotContext, SlotName } from "./types";

const MAX_SUBSCRIPTIONS = 20;

function currentTheme(): "light" | "dark" {
  return document.documentElement.dataset.theme === "dark" ? "dark" : "light";
}

/** The theme, following the app's toggle (which sets <html data-theme>). */
function useThemeAttr(): "light" | "dark" {
  const [theme, setTheme] = useState(currentTheme);
  useEffect(() => {
    const observer = new MutationObserver(() => setTheme(currentTheme()));
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    return () => observer.disconnect();
  }, []);
  return theme;
}

export function resourceOf(ctx: SlotContext): string | null {
  const t = ctx.task;
  if (t) return `/api/flows/${encodeURIComponent(t.flow_id)}/runs/${encodeURIComponent(t.run_id)}/steps/${encodeURIComponent(t.step_name)}/tasks/${encodeURIComponent(t.task_id)}`;
  const r = ctx.run;
  if (r) return `/api/flows/${encodeURIComponent(r.flow_id)}/runs/${encodeURIComponent(r.run_id)}`;
  return null;
}

interface Message {
  flowscope?: number;
  type?: string;
  id?: unknown;
  [key: string]: unknown;
}

export function PluginFrame({ plugin, slot, context, allowSameOrigin }: {
  plugin: PluginInfo;
  slot: SlotName;
  context: SlotContext;
  allowSameOrigin: boolean;
}) {
  const manifest = plugin.manifest!;
  const frame = useRef<HTMLIFrameElement>(null);
  const [height, setHeight] = useState(manifest.height ?? 150);
  const navigate = useNavigate();
  const theme = useThemeAttr();
  const ready = useRef(false);

  const contextMessage = {
    flowscope: 1, type: "context",
    context: {
      protocol: 1, plugin: { id: plugin.id, version: manifest.version }, slot,
      resource: resourceOf(context), pathspec: context.task?.pathspec ?? context.run?.pathspec ?? null,
      run: context.run ?? null, task: context.task ?? null, theme,
    },
  };
  const latest = useRef(contextMessage);
  latest.current = contextMessage;

  // The panel has an opaque origin, so "*" is the only target that reaches it; the context is
  // data the page already shows, and the window we post to is this iframe's own.
  const post = (msg: unknown) => frame.current?.contentWindow?.postMessage(msg, "*");

  // A changed run/task (live updates) or theme is sent again once the panel has said ready.
  const contextKey = JSON.stringify(contextMessage.context);
  useEffect(() => {
    if (ready.current) post(latest.current);
  }, [contextKey]);

  useEffect(() => {
    const subs = new Map<string, () => void>();
    const source = manifest.name;
    const onMessage = (e: MessageEvent) => {
      if (!frame.current || e.source !== frame.current.contentWindow) return;
      const msg = e.data as Message | null;
      if (!msg || typeof msg !== "object" || msg.flowscope !== 1) return;
      const id = typeof msg.id === "string" ? msg.id.slice(0, 64) : null;
      switch (msg.type) {
        case "ready":
          ready.current = true;
          post(latest.current);
          break;
        case "height": {
          const h = clampHeight(msg.height);
          if (h !== null) setHeight(h);
          break;
        }
        case "subscribe": {
          const resource = safeApiPath(msg.resource);
          if (!id || !resource || subs.has(id) || subs.size >= MAX_SUBSCRIPTIONS) {
            pushToast(source, `refused a live subscription to ${String(msg.resource)}`, "error");
            break;
          }
          subs.set(id, liveSocket().subscribe(resource, null, (event) => post({ flowscope: 1, type: "live", id, event })));
          break;
        }
        case "unsubscribe":
          if (id && subs.has(id)) {
            subs.get(id)!();
            subs.delete(id);
          }
          break;
        case "get": {
          const path = safeApiPath(msg.path);
          if (!id) break;
          if (!path) {
            post({ flowscope: 1, type: "response", id, error: `not an API path the host will read: ${String(msg.path)}` });
            break;
          }
          getJson<unknown>(path).then(
            (data) => post({ flowscope: 1, type: "response", id, data }),
            (err: unknown) => post({ flowscope: 1, type: "response", id, error: err instanceof Error ? err.message : String(err) }),
          );
          break;
        }
        case "notify":
          pushToast(source, String(msg.message ?? ""), msg.level === "error" ? "error" : "info");
          break;
        case "navigate": {
          const path = safeNavigatePath(msg.path);
          if (path) navigate(path);
          else pushToast(source, `refused to navigate to ${String(msg.path).slice(0, 100)}`, "error");
          break;
        }
      }
    };
    window.addEventListener("message", onMessage);
    return () => {
      window.removeEventListener("message", onMessage);
      for (const unsubscribe of subs.values()) unsubscribe();
      ready.current = false;
    };
  }, [plugin.id, manifest.name, navigate]);

  return (
    <iframe
      ref={frame}
      className="plugin-frame"
      data-plugin={plugin.id}
      title={`${manifest.name} (plugin)`}
      src={plugin.entry_url}
      // Scripts only; same-origin only if the operator allowed it (FLOWSCOPE_PLUGINS_ALLOW_SAME_ORIGIN).
      sandbox={allowSameOrigin ? "allow-scripts allow-same-origin" : "allow-scripts"}
      referrerPolicy="no-referrer"
      style={{ height }}
    />
  );
}
