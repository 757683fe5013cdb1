// Toasts raised by plugins (notify). A tiny external store, so any PluginFrame can add one and a
// single <PluginToasts/> shows them, without a context provider in the app shell.
import { useSyncExternalStore } from "react";

export interface Toast {
  id: number;
  source: string;
  message: string;
  level: "info" | "error";
}

let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<() => void>();
const emit = () => { for (const l of listeners) l(); };

export function pushToast(source: string, message: string, level: "info" | "error"): void {
  const toast = { id: nextId++, source, message: message.slice(0, 300), level };
  // At most 4 on screen: a chatty plugin cannot bury the page.
  toasts = [...toasts, toast].slice(-4);
  emit();
  setTimeout(() => dismissToast(toast.id), 6000);
}

export function dismissToast(id: number): void {
  toasts = toasts.filter((t) => t.id !== id);
  emit();
}

const subscribe = (l: () => void) => { listeners.add(l); return () => listeners.delete(l); };

export function PluginToasts() {
  const list = useSyncExternalStore(subscribe, () => toasts);
  if (!list.length) return null;
  return (
    <div className="plugin-toasts" role="status" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} className={`plugin-toast ${t.level}`} data-testid="plugin-toast" onClick={() => dismissToast(t.id)}>
          <span className="muted">{t.source}:</span> {t.message}
        </div>
      ))}
    </div>
  );
}
