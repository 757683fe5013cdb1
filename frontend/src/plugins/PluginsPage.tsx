// /-/plugins: every plugin the server found, with its slots, state and — for a bad one — the error.
import { ErrorBox, Loading, Empty } from "../ui/states";
import { usePluginList } from "./usePlugins";
import "./plugins.css";
import type { PluginInfo } from "./types";

function state(p: PluginInfo): string {
  if (p.error) return "error";
  return p.enabled ? "enabled" : "disabled";
}

export function PluginsPage() {
  const q = usePluginList();
  if (q.isPending) return <Loading label="Loading plugins" />;
  if (q.isError) return <ErrorBox error={q.error} retry={() => void q.refetch()} />;
  const plugins = q.data.data;
  const bad = plugins.filter((p) => p.error).length;
  return (
    <div className="plugins-page" data-testid="plugins-page">
      <h1>Plugins</h1>
      <p className="muted">
        {plugins.length} found{bad ? `, ${bad} with errors` : ""}. Panels run in sandboxed iframes
        {q.data.allow_same_origin ? " with the UI's origin (allowed by the operator)" : " without the UI's origin"}.
        Folders: the built-in <code>plugins/</code> and <code>FLOWSCOPE_PLUGIN_DIRS</code>; turn one off with{" "}
        <code>FLOWSCOPE_PLUGINS_DISABLED</code>.
      </p>
      {plugins.length === 0 ? <Empty>No plugins.</Empty> : (
        <table className="table" data-testid="plugins">
          <thead><tr><th>plugin</th><th>kind</th><th>slots</th><th>state</th><th>folder</th></tr></thead>
          <tbody>
            {plugins.map((p) => (
              <tr key={`${p.folder}`} data-plugin={p.id} data-state={state(p)}>
                <td>
                  <strong>{p.manifest?.name ?? p.id}</strong> <span className="muted">{p.manifest?.version}</span>
                  {p.manifest?.description && <div className="muted">{p.manifest.description}</div>}
                  {p.error && <div className="plugin-error" role="alert" data-testid="plugin-error">{p.error}</div>}
                </td>
                <td>{p.manifest?.kind ?? "—"}</td>
                <td className="mono">{p.manifest?.slots.join(", ") ?? "—"}</td>
                <td><span className={`plugin-state ${state(p)}`}>{state(p)}</span></td>
                <td className="mono muted">{p.folder}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
