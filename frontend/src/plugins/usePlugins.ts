// The plugin list, asked once per page load (plugins change only when the operator edits folders).
import { useQuery } from "@tanstack/react-query";
import { getJson } from "../api/client";
import type { PluginInfo, PluginList, SlotName } from "./types";

export function usePluginList() {
  return useQuery({
    queryKey: ["plugins"],
    queryFn: ({ signal }) => getJson<PluginList>("/api/-/plugins", signal),
    staleTime: Infinity,
  });
}

/** Valid, enabled plugins that declare this slot. */
export function usePluginsFor(slot: SlotName): { plugins: PluginInfo[]; allowSameOrigin: boolean } {
  const q = usePluginList();
  const plugins = (q.data?.data ?? []).filter(
    (p) => p.enabled && !p.error && p.manifest && p.manifest.slots.includes(slot),
  );
  return { plugins, allowSameOrigin: q.data?.allow_same_origin ?? false };
}
