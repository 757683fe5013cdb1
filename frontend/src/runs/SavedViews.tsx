// The run list's "Saved views" menu: save the current filters/sort/grouping under a name, open or
// delete a saved one. Kept in localStorage; each entry is a link.
import { useRef, useState } from "react";
import { Link, useLocation } from "react-router";
import { loadViews, saveViews, withView, type SavedView } from "./savedViews";

export function SavedViews() {
  const location = useLocation();
  const [views, setViews] = useState<SavedView[]>(() => loadViews());
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const url = `${location.pathname}${location.search}`;
  const update = (next: SavedView[]) => { setViews(next); saveViews(next); };
  const button = useRef<HTMLButtonElement>(null);
  // Escape anywhere in the menu closes it and gives the focus back to its button.
  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === "Escape" && open) { e.stopPropagation(); setOpen(false); button.current?.focus(); }
  };
  return (
    <span className="saved-views" onKeyDown={onKeyDown}>
      <button type="button" ref={button} className="btn btn-small" aria-expanded={open} data-testid="saved-views"
        onClick={() => setOpen((o) => !o)}>Saved views{views.length ? ` (${views.length})` : ""}</button>
      {open && (
        <div className="cmp-picker saved-views-menu" role="dialog" aria-label="Saved views">
          <form onSubmit={(e) => { e.preventDefault(); update(withView(views, name, url)); setName(""); }}>
            <input className="input" aria-label="Name of this view" placeholder="Name this view…" value={name}
              onChange={(e) => setName(e.target.value)} />
            <button type="submit" className="btn btn-small" disabled={!name.trim()}>Save</button>
          </form>
          {views.length === 0 && <div className="muted">No saved views yet: set filters, name them, save.</div>}
          {views.map((v) => (
            <div key={v.name} className="saved-view" data-view={v.name}>
              <Link to={v.url} onClick={() => setOpen(false)}>{v.name}</Link>
              <span className="muted mono">{v.url}</span>
              <button type="button" className="btn btn-small" aria-label={`Delete ${v.name}`}
                onClick={() => update(views.filter((x) => x.name !== v.name))}>×</button>
            </div>
          ))}
        </div>
      )}
    </span>
  );
}
