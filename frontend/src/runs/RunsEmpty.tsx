// What an empty run list says: no runs at all yet, no flow by that name (with the flows it may
// mean: Metaflow's flow names are case-sensitive class names), a flow without runs yet, or
// filters that match nothing. The list stays live behind it: a first run still appears.
import type { ReactNode } from "react";
import { Link } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { apiUrl, getJson } from "../api/client";
import { isNotFound } from "../ui/states";
import { formatPath, type RunListFilters } from "../nav/viewState";

/** Whether any filter narrows the list (the page's own flow is not a filter). */
export function hasFilters(f: RunListFilters, pathFlow: string | null): boolean {
  return f.status.length > 0 || f.user !== null || f.tags.length > 0 || f.range !== null
    || f.from !== null || f.to !== null || (f.flow !== null && f.flow !== pathFlow);
}

function useFlowLookup(flow: string | null) {
  const found = useQuery({
    queryKey: ["flow", flow],
    enabled: flow !== null,
    retry: false,
    queryFn: ({ signal }) => getJson<{ data: unknown }>(apiUrl(`/flows/${encodeURIComponent(flow ?? "")}`), signal),
  });
  const missing = found.isError && isNotFound(found.error);
  const similar = useQuery({
    queryKey: ["autocomplete", "flows", flow, "similar"],
    enabled: missing && flow !== null,
    queryFn: ({ signal }) =>
      getJson<{ data: string[] }>(apiUrl("/autocomplete/flows", { q: flow, limit: 5 }), signal).then((r) => r.data),
  });
  return { missing, exists: found.isSuccess, similar: similar.data ?? [] };
}

export function RunsEmpty({ filters, flow }: { filters: RunListFilters; flow: string | null }) {
  const filtered = hasFilters(filters, flow);
  const lookup = useFlowLookup(flow);
  let text: ReactNode;
  if (flow && lookup.missing) {
    text = <>No flow named <strong>{flow}</strong> has been recorded (flow names are case-sensitive); its runs show here as soon as one starts.</>;
  } else if (flow) {
    text = filtered ? `No runs match these filters in ${flow}.` : lookup.exists ? `${flow} has no runs yet.` : `No runs in ${flow}.`;
  } else {
    text = filtered ? "No runs match these filters."
      : "No runs recorded yet: a flow run with core_runtime, or a Metaflow run pointed at this server's ingest service, shows here live.";
  }
  return (
    <div className="state state-empty" data-testid="runs-empty" style={{ flexDirection: "column", alignItems: "center" }}>
      <div>{text}</div>
      {flow && lookup.missing && lookup.similar.length > 0 && (
        <div data-testid="flow-suggestion">
          Did you mean {lookup.similar.map((f, i) => (
            <span key={f}>{i > 0 ? ", " : ""}<Link to={formatPath({ flow: f })}>{f}</Link></span>
          ))}?
        </div>
      )}
    </div>
  );
}
