// Global keyboard shortcuts. Single keys only fire outside text inputs, so typing is never hijacked.
import { useEffect } from "react";

export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
}

export function focusShortcut(name: "goto" | "search"): boolean {
  const el = document.querySelector<HTMLInputElement>(`[data-shortcut="${name}"]`);
  if (!el) return false;
  el.focus();
  el.select();
  return true;
}

export function useGlobalShortcuts(openHelp: () => void): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "Escape" && isTyping(e.target)) {
        (e.target as HTMLElement).blur();
        return;
      }
      if (isTyping(e.target)) return;
      if (e.key === "/") {
        if (focusShortcut("search") || focusShortcut("goto")) e.preventDefault();
      } else if (e.key === "g") {
        if (focusShortcut("goto")) e.preventDefault();
      } else if (e.key === "?") {
        e.preventDefault();
        openHelp();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [openHelp]);
}

/** A focused button, link or other control: Enter is its own (a "why?" in a row must not open the row). */
export function isControl(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el?.closest?.("button, a[href], summary, [role=button], [role=link], [role=menuitem], [role=option], [role=tab]");
}

/**
 * j / k move a selection in a list, Enter opens it. Returns nothing: the list owns its selection
 * and passes setters; the handler is ignored while typing or when another list has focus.
 */
export function useListKeys(count: number, selected: number, select: (i: number) => void, open: (i: number) => void, enabled = true): void {
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      if (document.querySelector("dialog[open]")) return;
      if (e.key === "j" || e.key === "ArrowDown") {
        e.preventDefault();
        select(Math.min(count - 1, selected + 1));
      } else if (e.key === "k" || e.key === "ArrowUp") {
        e.preventDefault();
        select(Math.max(0, selected - 1));
      } else if (e.key === "Enter" && selected >= 0 && selected < count && !isControl(e.target)) {
        e.preventDefault();
        open(selected);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [count, selected, select, open, enabled]);
}

export const SHORTCUTS: [string, string][] = [
  ["g", "Go to a pathspec (Flow/Run/Step/Task)"],
  ["/", "Search / filter on this page"],
  ["j / k", "Next / previous row in a list"],
  ["Enter", "Open the selected row"],
  ["Esc", "Close a dialog, leave a text box"],
  ["?", "This help"],
  ["f", "Timeline: fit the whole run"],
  ["Tab", "Timeline: focus it; then j / k or ↑ / ↓ choose a row, Enter opens its task or collapses its step"],
  ["← / → , + / −", "Timeline (focused): pan, zoom"],
  ["Tab, then ↑ / ↓", "Task list: focus the selected task, move within (Home / End too), Enter opens"],
  ["t", "Logs: toggle timestamps"],
  ["w", "Logs: toggle line wrap"],
  ["n / N", "Logs: next / previous match"],
];
