import { useCallback, useMemo } from "react";
import { useLocation, useNavigate } from "react-router";
import { formatLocation, parseLocation, type ViewState } from "./viewState";

/** The view state of the current URL, and a way to change it (which changes the URL). */
export function useView(): [ViewState, (update: (s: ViewState) => ViewState, opts?: { replace?: boolean }) => void] {
  const location = useLocation();
  const navigate = useNavigate();
  const state = useMemo(
    () => parseLocation(location.pathname, location.search, location.hash),
    [location.pathname, location.search, location.hash],
  );
  const update = useCallback(
    (fn: (s: ViewState) => ViewState, opts?: { replace?: boolean }) => {
      const next = formatLocation(fn(state));
      const current = `${location.pathname}${location.search}${location.hash}`;
      if (next !== current) navigate(next, { replace: opts?.replace ?? false });
    },
    [state, navigate, location.pathname, location.search, location.hash],
  );
  return [state, update];
}
