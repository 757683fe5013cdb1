// Loading, empty and error states: every panel shows one of these instead of a blank box.
import type { ReactNode } from "react";
import { Link } from "react-router";
import { ApiError } from "../api/client";

export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden /> {label}…
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state state-empty">{children}</div>;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

/** `back`: where to go instead when the thing is not found (a 404): the page that contains it. */
export function ErrorBox({ error, retry, back }: { error: unknown; retry?: () => void; back?: { to: string; label: string } }) {
  const message = error instanceof Error ? error.message : String(error);
  const status = error instanceof ApiError && error.status ? `${error.status} · ` : "";
  return (
    <div className="state state-error" role="alert">
      <strong>{status}Error</strong> <span className="error-message">{message}</span>
      {retry && (
        <button type="button" className="btn btn-small" onClick={retry}>
          Retry
        </button>
      )}
      {back && isNotFound(error) && (
        <Link className="btn btn-small" data-testid="not-found-back" to={back.to}>
          {back.label}
        </Link>
      )}
    </div>
  );
}

interface QueryLike {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => unknown;
}

/** Renders loading / error for a query, else the children (called only when data exists). */
export function QueryState({ query, children, label }: { query: QueryLike; children: () => ReactNode; label?: string }) {
  if (query.isPending) return <Loading label={label} />;
  if (query.isError) return <ErrorBox error={query.error} retry={() => void query.refetch()} />;
  return <>{children()}</>;
}
