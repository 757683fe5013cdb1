// The run list's filter bar. Every control writes the URL; the list reads it back.
import { useState, type ReactNode } from "react";
import type { Status } from "../api/types";
import { useCompletions, type CompletionKind } from "../api/autocomplete";
import type { RangePreset, RunListFilters } from "../nav/viewState";

const STATUSES: Status[] = ["running", "completed", "failed"];
const RANGES: [RangePreset | null, string][] = [[null, "Any time"], ["1h", "Last hour"], ["24h", "Last 24 h"], ["7d", "Last 7 days"], ["30d", "Last 30 days"], ["custom", "Custom…"]];

function toLocalInput(ms: number | null): string {
  if (ms === null) return "";
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

function AutoInput({ kind, value, placeholder, onCommit, scope, label, shortcut }: {
  kind: CompletionKind; value: string; placeholder: string; label: string; shortcut?: string;
  onCommit: (v: string) => void; scope?: Record<string, string | null>;
}) {
  const [text, setText] = useState(value);
  const [focused, setFocused] = useState(false);
  const completions = useCompletions(focused ? kind : null, text, scope);
  const id = `ac-${kind}`;
  return (
    <>
      <input
        className="input"
        style={{ width: 140 }}
        list={id}
        aria-label={label}
        data-shortcut={shortcut}
        placeholder={placeholder}
        value={focused ? text : value}
        onFocus={() => { setText(value); setFocused(true); }}
        onBlur={() => { setFocused(false); if (text !== value) onCommit(text.trim()); }}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") {
            onCommit(text.trim());
            if (kind === "tags") setText("");
          }
        }}
      />
      <datalist id={id}>
        {(completions.data ?? []).map((v) => <option key={v} value={v} />)}
      </datalist>
    </>
  );
}

export function RunFilters({ filters, set, flowFixed, end }: {
  filters: RunListFilters; set: (f: Partial<RunListFilters>) => void; flowFixed: boolean;
  /** Shown at the right end of the bar (the saved views menu). */
  end?: ReactNode;
}) {
  const toggleStatus = (s: Status) =>
    set({ status: filters.status.includes(s) ? filters.status.filter((x) => x !== s) : [...filters.status, s] });
  return (
    <div className="toolbar" role="search">
      <div className="seg" role="group" aria-label="Status">
        {STATUSES.map((s) => (
          <button key={s} type="button" aria-pressed={filters.status.includes(s)} onClick={() => toggleStatus(s)} data-filter-status={s}>
            <span className={`badge status-${s}`} style={{ background: "none", padding: 0, height: "auto" }}><span className="dot" /></span>
            {" "}{s}
          </button>
        ))}
      </div>
      {!flowFixed && (
        <AutoInput kind="flows" label="Flow" placeholder="flow" value={filters.flow ?? ""} shortcut="search"
          onCommit={(v) => set({ flow: v || null })} />
      )}
      <AutoInput kind="users" label="User" placeholder="user" value={filters.user ?? ""}
        onCommit={(v) => set({ user: v || null })} />
      <AutoInput kind="tags" label="Add tag filter" placeholder="+ tag" value=""
        onCommit={(v) => { if (v && !filters.tags.includes(v)) set({ tags: [...filters.tags, v] }); }} />
      {filters.tags.map((t) => (
        <span key={t} className="chip">
          {t}
          <button type="button" aria-label={`Remove tag ${t}`} onClick={() => set({ tags: filters.tags.filter((x) => x !== t) })}>×</button>
        </span>
      ))}
      <span className="sep" />
      <select
        className="select"
        aria-label="Time range"
        value={filters.range ?? ""}
        onChange={(e) => {
          const range = (e.target.value || null) as RangePreset | null;
          set(range === "custom" ? { range, from: filters.from ?? Date.now() - 86_400_000, to: filters.to } : { range, from: null, to: null });
        }}
      >
        {RANGES.map(([v, label]) => <option key={label} value={v ?? ""}>{label}</option>)}
      </select>
      {filters.range === "custom" && (
        <>
          <input className="input" type="datetime-local" aria-label="From" value={toLocalInput(filters.from)}
            onChange={(e) => set({ from: e.target.value ? new Date(e.target.value).getTime() : null })} />
          <span className="muted">–</span>
          <input className="input" type="datetime-local" aria-label="To" value={toLocalInput(filters.to)}
            onChange={(e) => set({ to: e.target.value ? new Date(e.target.value).getTime() : null })} />
        </>
      )}
      <span className="sep" />
      <label className="field">
        Group
        <span className="seg" role="group" aria-label="Group by">
          {(["none", "flow", "user"] as const).map((g) => (
            <button key={g} type="button" aria-pressed={filters.group === g} onClick={() => set({ group: g })}>{g}</button>
          ))}
        </span>
      </label>
      {end && <span style={{ marginLeft: "auto" }}>{end}</span>}
    </div>
  );
}
