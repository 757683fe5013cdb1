// A named place in the UI where plugins appear: link buttons (link plugins) and panels (iframes).
// The four slots: run-header, task-details, run-tab (see PluginTabs), home-header.
import { useRun } from "../api/runs";
import { useMetadata } from "../api/task";
import { fillTemplate, usesMetadata } from "./linkTemplate";
import { PluginFrame } from "./PluginFrame";
import { activePluginTab, usePluginTab } from "./PluginTabs";
import { usePluginsFor } from "./usePlugins";
import "./plugins.css";
import type { LinkSpec, PluginInfo, SlotContext, SlotName } from "./types";

function LinkButtons({ links, context }: { links: [PluginInfo, LinkSpec][]; context: SlotContext }) {
  const task = context.task;
  const needsMeta = Boolean(task) && links.some(([, l]) => usesMetadata(l.url));
  const needsRun = Boolean(task) && !context.run && links.some(([, l]) => l.url.includes("{run."));
  const meta = useMetadata(
    { flow: task?.flow_id ?? "", run: task?.run_id ?? "", step: task?.step_name ?? "", task: task?.task_id ?? "" },
    needsMeta,
  );
  const run = useRun(needsRun ? task!.flow_id : null, needsRun ? task!.run_id : null);
  const full: SlotContext = { ...context, run: context.run ?? run.data ?? null, metadata: meta.data ?? null };
  return (
    <div className="plugin-links">
      {links.map(([plugin, link], i) => {
        const filled = fillTemplate(link.url, full);
        const key = `${plugin.id}-${i}`;
        if (filled.url === null) {
          const loading = (needsMeta && meta.isPending) || (needsRun && run.isPending);
          return (
            <button key={key} type="button" className="btn btn-small" disabled data-plugin-link={link.label}
              title={loading ? "loading…" : `not available here: no value for ${filled.missing.join(", ")}`}>
              {link.label}
            </button>
          );
        }
        return (
          <a key={key} className="btn btn-small" href={filled.url} target="_blank" rel="noopener noreferrer"
            data-plugin-link={link.label} title={`${plugin.manifest!.name}: ${filled.url}`}>
            {link.label} ↗
          </a>
        );
      })}
    </div>
  );
}

export function PluginSlot({ name, context }: { name: SlotName; context: SlotContext }) {
  const { plugins, allowSameOrigin } = usePluginsFor(name);
  const tab = activePluginTab(usePluginTab());
  if (!plugins.length) return null;
  if (name === "run-tab") {
    // Only the selected tab's panel; the tab links themselves are PluginTabs, in the tab bar.
    const active = plugins.find((p) => p.id === tab && p.manifest!.kind === "panel");
    if (!active) return null;
    return (
      <div className="plugin-slot plugin-tab-body" data-slot={name}>
        <PluginFrame key={active.id} plugin={active} slot={name} context={context} allowSameOrigin={allowSameOrigin} />
      </div>
    );
  }
  const links: [PluginInfo, LinkSpec][] = plugins
    .filter((p) => p.manifest!.kind === "link")
    .flatMap((p) => p.manifest!.links!.filter((l) => !l.slots || l.slots.includes(name)).map((l): [PluginInfo, LinkSpec] => [p, l]));
  const panels = plugins.filter((p) => p.manifest!.kind === "panel");
  return (
    <div className="plugin-slot" data-slot={name}>
      {links.length > 0 && <LinkButtons links={links} context={context} />}
      {panels.map((p) => (
        <PluginFrame key={p.id} plugin={p} slot={name} context={context} allowSameOrigin={allowSameOrigin} />
      ))}
    </div>
  );
}
