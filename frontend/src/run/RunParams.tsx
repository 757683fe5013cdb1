// The run's parameters in its header: plain values inline; an IncludeFile as the file it read
// (name, size, text or binary, a link to the artifact holding its content); a Config as
// collapsible JSON. Which kind a name is comes from the recorded DAG's parameter list
// (core_runtime and Metaflow both record {name, type: "Parameter" | "IncludeFile" | "Config"}).
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { apiUrl, getJson, seg } from "../api/client";
import { runPath, useDag } from "../api/runDetail";
import type { ListPage, Run, Task } from "../api/types";
import { formatBytes } from "../ui/format";
import { baseName, includedFile, type IncludedFileInfo } from "./includedFile";

export type ParamKind = "Parameter" | "IncludeFile" | "Config";

/** name → kind from a DAG's `parameters` list (unknown entries are left out). */
export function parameterKinds(dagParams: readonly unknown[] | undefined): Map<string, ParamKind> {
  const kinds = new Map<string, ParamKind>();
  for (const p of dagParams ?? []) {
    if (p && typeof p === "object") {
      const { name, type } = p as { name?: unknown; type?: unknown };
      if (typeof name === "string" && (type === "Parameter" || type === "IncludeFile" || type === "Config")) {
        kinds.set(name, type);
      }
    }
  }
  return kinds;
}

function paramText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** A Config's one-line summary: `{3 keys}`, `[2 items]`, or the value itself. */
export function configSummary(v: unknown): string {
  if (Array.isArray(v)) return `[${v.length} item${v.length === 1 ? "" : "s"}]`;
  if (v && typeof v === "object") {
    const n = Object.keys(v).length;
    return `{${n} key${n === 1 ? "" : "s"}}`;
  }
  return paramText(v);
}

/** The first task of a step (where core_runtime's start step keeps the IncludeFile artifact). */
function useFirstTask(flow: string, run: string, step: string, enabled: boolean) {
  return useQuery({
    queryKey: ["first-task", flow, run, step],
    enabled,
    staleTime: Infinity,
    queryFn: ({ signal }) =>
      getJson<ListPage<Task>>(apiUrl(`${runPath(flow, run)}/steps/${seg(step)}/tasks`, { limit: 1 }), signal)
        .then((r) => r.data[0] ?? null),
  });
}

function FileParam({ name, file, contentHref }: { name: string; file: IncludedFileInfo; contentHref: string | null }) {
  const where = file.path ?? file.url;
  return (
    <span className="param param-file" data-kind="IncludeFile" data-param={name} title={where ?? undefined}>
      <b>{name}=</b>
      <span className="file-name" data-testid="file-name">{file.path ? baseName(file.path) : "included file"}</span>
      <span className="muted" data-testid="file-info">
        {" · "}{formatBytes(file.size)}{" · "}{file.isText ? `text${file.encoding ? `, ${file.encoding}` : ""}` : "binary"}
      </span>
      {contentHref && <>{" · "}<Link to={contentHref} data-testid="file-content">content</Link></>}
      {!file.path && file.url && <span className="muted file-url" data-testid="file-url">{" · "}{file.url}</span>}
    </span>
  );
}

function ConfigParam({ name, value }: { name: string; value: unknown }) {
  return (
    <details className="param param-config" data-kind="Config" data-param={name}>
      <summary><b>{name}=</b>{configSummary(value)}</summary>
      <pre className="config-json" data-testid="config-json">{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

export function RunParams({ run }: { run: Run }) {
  const params = Object.entries(run.parameters ?? {});
  // asked only for a run with parameters (the DAG tab shares the answer)
  const dag = useDag(run.flow_id, run.run_id, params.length > 0);
  const kinds = parameterKinds(dag.data?.parameters);
  const startStep = dag.data?.start_step ?? "start";
  // core_runtime stores an IncludeFile's content as an artifact of that name in every task.
  const hasLocalFile = params.some(([, v]) => includedFile(v)?.path);
  const first = useFirstTask(run.flow_id, run.run_id, startStep, hasLocalFile);
  const contentHref = (name: string) => first.data
    ? `/${seg(run.flow_id)}/${seg(run.run_id)}/${seg(startStep)}/${seg(first.data.task_id)}?panel=artifacts&artifact=${encodeURIComponent(name)}`
    : null;
  if (params.length === 0) return null;
  return (
    <div><dt>parameters</dt><dd className="params" data-testid="run-params" data-kinds={dag.isPending ? "loading" : "ready"}>
      {params.map(([k, v]) => {
        const kind = kinds.get(k);
        const file = includedFile(v);
        if (file && kind !== "Config" && kind !== "Parameter") {
          return <FileParam key={k} name={k} file={file} contentHref={file.path ? contentHref(k) : null} />;
        }
        if (kind === "IncludeFile" && v === null) {
          return <span key={k} className="param" data-kind="IncludeFile" data-param={k}><b>{k}=</b><span className="muted">no file</span></span>;
        }
        if (kind === "Config") return <ConfigParam key={k} name={k} value={v} />;
        return <span key={k} className="param" data-param={k}><b>{k}=</b>{paramText(v)}</span>;
      })}
    </dd></div>
  );
}
