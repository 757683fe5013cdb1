// The go-to box: type or paste a pathspec, complete it segment by segment, Enter to go there.
import { useState, type KeyboardEvent } from "react";
import { useNavigate } from "react-router";
import { useCompletions, type CompletionKind } from "../api/autocomplete";
import { goToLocation } from "../nav/viewState";

// Task ids complete by prefix within the step (the server returns at most 20, index-backed).
const KINDS: (CompletionKind | null)[] = ["flows", "runs", "steps", "tasks"];

export function GoTo() {
  const navigate = useNavigate();
  const [text, setText] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [error, setError] = useState<string | null>(null);

  const segments = text.replace(/^\/+/, "").split("/");
  const index = Math.min(segments.length - 1, 3);
  const prefix = segments[segments.length - 1] ?? "";
  const scope = { flow: index >= 1 ? segments[0] ?? null : null, run: index >= 2 ? segments[1] ?? null : null,
    step: index >= 3 ? segments[2] ?? null : null };
  const completions = useCompletions(open && segments.length <= 4 ? KINDS[index] ?? null : null, prefix, scope);
  const options = (completions.data ?? []).slice(0, 12);

  const complete = (value: string) => {
    const head = segments.slice(0, -1);
    const next = [...head, value].join("/") + (head.length < 3 ? "/" : "");
    setText(next);
    setActive(-1);
  };

  const go = (value: string) => {
    const location = goToLocation(value);
    if (!location) {
      setError("Enter a pathspec: Flow, Flow/Run, Flow/Run/Step, Flow/Run/Step/Task or Flow/Run/Step/Task/artifact");
      return;
    }
    setError(null);
    setOpen(false);
    setText("");
    (document.activeElement as HTMLElement | null)?.blur();
    navigate(location);
  };

  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setActive((a) => Math.min(options.length - 1, a + 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => Math.max(-1, a - 1));
    } else if (e.key === "Tab" && options.length && text) {
      e.preventDefault();
      complete(options[Math.max(0, active)]!);
    } else if (e.key === "Enter") {
      e.preventDefault();
      const picked = active >= 0 ? options[active] : undefined;
      go(picked !== undefined ? [...segments.slice(0, -1), picked].join("/") : text);
    } else if (e.key === "Escape") {
      setOpen(false);
      setError(null);
      e.currentTarget.blur();
    }
  };

  return (
    <div className="goto">
      <span className="goto-icon" aria-hidden>⌕</span>
      <input
        data-shortcut="goto"
        aria-label="Go to pathspec"
        placeholder="Go to Flow/Run/Step/Task…"
        value={text}
        spellCheck={false}
        autoComplete="off"
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
          setActive(-1);
          setError(null);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={onKey}
      />
      <kbd className="goto-kbd">g</kbd>
      {open && (options.length > 0 || error) && (
        <ul className="goto-menu" role="listbox">
          {error && <li className="goto-error">{error}</li>}
          {options.map((o, i) => (
            <li
              key={o}
              role="option"
              aria-selected={i === active}
              className={i === active ? "active" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                complete(o);
              }}
            >
              <span className="muted">{segments.slice(0, -1).join("/")}{index > 0 ? "/" : ""}</span>
              {o}
              <span className="goto-kind">{KINDS[index]?.slice(0, -1)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
