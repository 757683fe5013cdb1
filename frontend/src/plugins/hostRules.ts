// What the host agrees to do for a panel. Panels are untrusted: every request is checked here.

/** In-app paths only: "/", "/Flow", "/Flow/run", "/Flow/run/step", "/Flow/run/step/task", optional query. */
export function safeNavigatePath(path: unknown): string | null {
  if (typeof path !== "string" || path.length > 2000) return null;
  const [pathname, ...rest] = path.split("?");
  const query = rest.join("?");
  if (!pathname!.startsWith("/") || pathname!.startsWith("//") || pathname!.includes("\\")) return null;
  const parts = pathname!.split("/").slice(1);
  if (parts.length === 1 && parts[0] === "") return query ? `/?${query}` : "/";
  if (parts.length > 4) return null;
  for (const part of parts) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      return null;
    }
    // No empty, dot or control segments; the first segment is a flow name, never "-" (app pages).
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    if (!decoded || decoded === "." || decoded === ".." || /[\u0000-\u001f]/.test(decoded)) return null;
  }
  if (parts[0]!.startsWith("-") || parts[0]!.includes(":")) return null;
  return query ? `${pathname}?${query}` : pathname!;
}

/** API GETs a panel may ask the host to make: /api/ paths, no traversal, no websocket, no plugin list. */
export function safeApiPath(path: unknown): string | null {
  if (typeof path !== "string" || path.length > 4000) return null;
  if (!path.startsWith("/api/") || path.startsWith("/api/ws") || path.startsWith("/api/-/")) return null;
  const pathname = path.split("?")[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.split("/").some((p) => p === ".." || p === ".") || pathname.includes("\\")) return null;
  return path;
}

export const MIN_HEIGHT = 20;
export const MAX_HEIGHT = 4000;

export function clampHeight(h: unknown): number | null {
  if (typeof h !== "number" || !Number.isFinite(h)) return null;
  return Math.round(Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, h)));
}
