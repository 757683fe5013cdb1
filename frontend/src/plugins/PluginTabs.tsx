// run-tab plugins: extra tabs of the run page, selected in the URL as ?tab=plugin:<id>, so a plugin
// tab is linkable like the built-in ones (the built-in tabs ignore a tab value they do not know).
import { Link, useLocation } from "react-router";
import { usePluginsFor } from "./usePlugins";

const PREFIX = "plugin:";

/** The raw ?tab= value of the current URL. */
export function usePluginTab(): string | null {
  return new URLSearchParams(useLocation().search).get("tab");
}

/** The plugin id if the tab value names a plugin tab. */
export function activePluginTab(tab: string | null): string | null {
  return tab?.startsWith(PREFIX) ? tab.slice(PREFIX.length) : null;
}

export function PluginTabs() {
  const { plugins } = usePluginsFor("run-tab");
  const location = useLocation();
  const active = activePluginTab(usePluginTab());
  return (
    <>
      {plugins.filter((p) => p.manifest!.kind === "panel").map((p) => (
        <Link key={p.id} to={`${location.pathname}?tab=${encodeURIComponent(PREFIX + p.id)}`} role="tab"
          aria-selected={active === p.id} data-tab={`${PREFIX}${p.id}`}>
          {p.manifest!.title ?? p.manifest!.name}
        </Link>
      ))}
    </>
  );
}
