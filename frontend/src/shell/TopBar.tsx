import { Link, useLocation } from "react-router";
import { formatPath, parsePath } from "../nav/viewState";
import { useConnectionState } from "../live/useLive";
import { GoTo } from "./GoTo";
import { MirrorIndicator } from "./MirrorIndicator";
import type { ThemeChoice } from "./theme";

// App pages that are not pathspecs live under /-/ (no flow name can start with "-").
const APP_PAGES: Record<string, string> = { plugins: "Plugins", compare: "Compare runs" };

export function Breadcrumbs() {
  const pathname = useLocation().pathname;
  const path = parsePath(pathname);
  const crumbs: { label: string; to: string; kind: string }[] = [];
  const appPage = pathname.startsWith("/-/") ? pathname.split("/")[2] ?? "" : null;
  if (appPage !== null) {
    crumbs.push({ label: APP_PAGES[appPage] ?? appPage, to: pathname, kind: "page" });
  } else {
    if (path.flow) crumbs.push({ label: path.flow, to: formatPath({ flow: path.flow }), kind: "flow" });
    if (path.run) crumbs.push({ label: path.run, to: formatPath({ flow: path.flow, run: path.run }), kind: "run" });
    if (path.step) crumbs.push({ label: path.step, to: formatPath({ flow: path.flow, run: path.run, step: path.step }), kind: "step" });
    if (path.task) crumbs.push({ label: path.task, to: formatPath(path), kind: "task" });
  }
  return (
    <nav className="crumbs" aria-label="Breadcrumbs">
      <Link to="/" className="crumb">Runs</Link>
      {crumbs.map((c, i) => (
        <span key={c.kind} className="crumb-wrap">
          <span className="crumb-sep">/</span>
          {i === crumbs.length - 1 ? (
            <span className="crumb current" aria-current="page" title={c.kind}>{c.label}</span>
          ) : (
            <Link className="crumb" to={c.to} title={c.kind}>{c.label}</Link>
          )}
        </span>
      ))}
    </nav>
  );
}

const CONNECTION_TEXT = {
  connecting: ["connecting", "Connecting to the live stream"],
  live: ["live", "Live: changes appear as they happen"],
  reconnecting: ["reconnecting", "Connection lost; reconnecting. The view will catch up when it is back."],
  stale: ["stale", "No connection for a while: what you see may be out of date"],
} as const;

export function ConnectionIndicator() {
  const state = useConnectionState();
  const [label, title] = CONNECTION_TEXT[state];
  return (
    <span className={`conn conn-${state}`} title={title} data-connection={state}>
      <span className="dot" aria-hidden /> {label}
    </span>
  );
}

export function TopBar({ theme, setTheme, openHelp }: { theme: ThemeChoice; setTheme: (t: ThemeChoice) => void; openHelp: () => void }) {
  const next: Record<ThemeChoice, ThemeChoice> = { system: "dark", dark: "light", light: "system" };
  const icon: Record<ThemeChoice, string> = { system: "◐", dark: "☾", light: "☀" };
  return (
    <header className="topbar">
      <Link to="/" className="brand" aria-label="Flowscope home">
        <svg width="18" height="18" viewBox="0 0 16 16" aria-hidden>
          <rect x="1" y="3" width="9" height="3" rx="1" fill="var(--accent)" />
          <rect x="5" y="8" width="10" height="3" rx="1" fill="var(--ok)" />
        </svg>
        Flowscope
      </Link>
      <Breadcrumbs />
      <div className="topbar-right">
        <GoTo />
        <MirrorIndicator />
        <ConnectionIndicator />
        <button
          type="button"
          className="btn btn-icon"
          data-testid="theme-toggle"
          title={`Theme: ${theme} (click for ${next[theme]})`}
          onClick={() => setTheme(next[theme])}
        >
          {icon[theme]}
        </button>
        <button type="button" className="btn btn-icon" title="Keyboard shortcuts (?)" onClick={openHelp}>?</button>
      </div>
    </header>
  );
}
