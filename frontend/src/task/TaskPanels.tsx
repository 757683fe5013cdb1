// Artifacts, metadata and cards of a task: tables with loading / empty / error states.
import { useEffect, useRef, useState } from "react";
import { apiUrl } from "../api/client";
import { taskPath, useArtifacts, useArtifactValue, useCards, useMetadata, type TaskRef } from "../api/task";
import { formatBytes, formatTime } from "../ui/format";
import { Empty, ErrorBox, Loading, QueryState } from "../ui/states";
import { CardFrame } from "./CardFrame";
import type { Artifact } from "../api/types";
import { splitArtifacts } from "./artifactOrder";

function ArtifactDialog({ task, name, attempt, onClose }: { task: TaskRef; name: string; attempt: number | null; onClose: () => void }) {
  const value = useArtifactValue(task, name, attempt);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => { ref.current?.showModal(); }, []);
  const data = value.data;
  const v = data?.value;
  const text = v?.text ?? (v?.json !== undefined ? JSON.stringify(v.json, null, 2) : data?.preview ?? "");
  return (
    <dialog ref={ref} className="dialog" style={{ width: "min(900px, 90vw)" }} onClose={onClose}>
      <h2 className="mono">{name} <span className="muted" style={{ fontWeight: 400, fontSize: 12 }}>{data?.type}</span></h2>
      {value.isPending ? <Loading /> : value.isError ? <ErrorBox error={value.error} /> : (
        <>
          {data?.render_error ? <p className="run-reason failed">Could not render: {data.render_error}</p> : null}
          {v?.truncated ? <p className="muted">Shown truncated at the server's size limit; download for the whole value.</p> : null}
          <pre className="artifact-view" data-testid="artifact-value">{text}</pre>
        </>
      )}
      <div style={{ display: "flex", gap: 8, marginTop: 10 }}>
        <a className="btn" href={apiUrl(`${taskPath(task)}/artifacts/${encodeURIComponent(name)}/download`, { attempt })} download>Download (pickle)</a>
        <button type="button" className="btn" onClick={onClose} style={{ marginLeft: "auto" }}>Close</button>
      </div>
    </dialog>
  );
}

export function ArtifactsPanel({ task, attempt }: { task: TaskRef; attempt: number | null }) {
  const q = useArtifacts(task, attempt, true);
  // ?artifact=NAME opens that artifact (the run header links an IncludeFile's content here).
  const [open, setOpen] = useState<string | null>(() => new URLSearchParams(window.location.search).get("artifact"));
  const [showInternal, setShowInternal] = useState(false);
  const row = (a: Artifact) => (
    <tr key={`${a.name}-${a.attempt}`} onClick={() => setOpen(a.name)} style={{ cursor: "pointer" }} data-artifact={a.name}>
      {/* A button, so the keyboard reaches every artifact's value too (Tab, Enter). */}
      <td className="mono"><button type="button" className="link-button" onClick={(e) => { e.stopPropagation(); setOpen(a.name); }}>
        <strong>{a.name}</strong></button></td>
      <td className="mono muted">{a.type ?? "—"}</td>
      <td className="num" style={{ textAlign: "right" }}>{formatBytes(a.size)}</td>
      <td className="mono" style={{ maxWidth: 520, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }}>{a.preview ?? ""}</td>
    </tr>
  );
  return (
    <div className="panel-body">
      <QueryState query={q} label="Loading artifacts">
        {() => {
          if (q.data!.length === 0) return <Empty>No artifacts.</Empty>;
          const { own, internal } = splitArtifacts(q.data!);
          return (
            <table className="table" data-testid="artifacts">
              <thead><tr><th>Name</th><th>Type</th><th style={{ textAlign: "right" }}>Size</th><th>Preview</th></tr></thead>
              <tbody>
                {own.map(row)}
                {internal.length > 0 && (
                  <tr className="artifact-internal-toggle">
                    <td colSpan={4}>
                      <button type="button" className="link-button muted" aria-expanded={showInternal} data-testid="internal-artifacts"
                        onClick={() => setShowInternal((s) => !s)}>
                        {showInternal ? "▾" : "▸"} {internal.length} Metaflow internal artifact{internal.length === 1 ? "" : "s"} (_graph_info, _foreach_stack, …)
                      </button>
                    </td>
                  </tr>
                )}
                {showInternal && internal.map(row)}
              </tbody>
            </table>
          );
        }}
      </QueryState>
      {open && <ArtifactDialog task={task} name={open} attempt={attempt} onClose={() => setOpen(null)} />}
    </div>
  );
}

export function MetadataPanel({ task }: { task: TaskRef }) {
  const q = useMetadata(task, true);
  return (
    <div className="panel-body">
      <QueryState query={q} label="Loading metadata">
        {() => q.data!.length === 0 ? <Empty>No metadata.</Empty> : (
          <table className="table" data-testid="metadata">
            <thead><tr><th>Field</th><th>Value</th><th>Type</th><th>Attempt</th><th>Recorded</th></tr></thead>
            <tbody>
              {q.data!.map((m, i) => (
                <tr key={`${m.field_name}-${i}`}>
                  <td className="mono">{m.field_name}</td>
                  <td className="mono" style={{ wordBreak: "break-all" }}>{m.value}</td>
                  <td className="muted">{m.type ?? ""}</td>
                  <td className="num">{m.attempt ?? ""}</td>
                  <td className="num muted">{formatTime(m.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryState>
    </div>
  );
}

export function CardsPanel({ task, attempt }: { task: TaskRef; attempt: number | null }) {
  const q = useCards(task, attempt, true);
  const [index, setIndex] = useState(0);
  return (
    <div className="panel-body" style={{ padding: 12 }}>
      <QueryState query={q} label="Loading cards">
        {() => {
          const { cards, notice } = q.data!;
          // Why cards the run recorded are not listed: said instead of (or above) the cards.
          const why = notice && <p className="notice" role="note" data-testid="cards-notice">{notice}</p>;
          if (cards.length === 0) return why || <Empty>No cards.</Empty>;
          const card = cards[Math.min(index, cards.length - 1)]!;
          return (
            <>
              {why}
              {cards.length > 1 && (
                <div className="seg" role="group" aria-label="Card" style={{ marginBottom: 8 }}>
                  {cards.map((c, i) => (
                    <button key={c.card_id} type="button" aria-pressed={i === index} onClick={() => setIndex(i)}>{c.card_id}{c.type ? ` (${c.type})` : ""}</button>
                  ))}
                </div>
              )}
              <CardFrame card={card}
                src={card.url ?? apiUrl(`${taskPath(task)}/cards/${encodeURIComponent(card.card_id)}`, { attempt: card.attempt ?? attempt })} />
            </>
          );
        }}
      </QueryState>
    </div>
  );
}
