// Light / dark theme: the system's by default, an explicit choice persisted in localStorage.
import { useEffect, useState } from "react";

export type ThemeChoice = "system" | "light" | "dark";
const KEY = "flowscope.theme";

function systemTheme(): "light" | "dark" {
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function stored(): ThemeChoice {
  const v = localStorage.getItem(KEY);
  return v === "light" || v === "dark" ? v : "system";
}

export function useTheme(): [ThemeChoice, "light" | "dark", (t: ThemeChoice) => void] {
  const [choice, setChoice] = useState<ThemeChoice>(stored);
  const [system, setSystem] = useState(systemTheme);
  useEffect(() => {
    const mq = window.matchMedia("(prefers-color-scheme: dark)");
    const on = () => setSystem(systemTheme());
    mq.addEventListener("change", on);
    return () => mq.removeEventListener("change", on);
  }, []);
  const effective = choice === "system" ? system : choice;
  useEffect(() => {
    document.documentElement.dataset.theme = effective;
  }, [effective]);
  const set = (t: ThemeChoice) => {
    if (t === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, t);
    setChoice(t);
  };
  return [choice, effective, set];
}

/** Reads a CSS custom property (canvas drawing needs the theme's colours as strings). */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
