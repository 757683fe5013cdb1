// An IncludeFile parameter's recorded value: core_runtime records the path it read, Metaflow the
// datastore URL where it uploaded the content; both with size and text/binary. Shown as the file,
// never as the raw descriptor (run header, compare).
import { formatBytes } from "../ui/format";

/** What an IncludeFile parameter recorded: core_runtime gives the path it read, Metaflow the
 * datastore URL where it uploaded the content. */
export interface IncludedFileInfo {
  path: string | null;
  url: string | null;
  size: number | null;
  isText: boolean;
  encoding: string | null;
}

/** The file an IncludeFile value describes, or null when the value is not such a descriptor. */
export function includedFile(v: unknown): IncludedFileInfo | null {
  if (!v || typeof v !== "object" || Array.isArray(v)) return null;
  const d = v as Record<string, unknown>;
  if (d.type !== "IncludeFile") return null;
  const str = (x: unknown) => (typeof x === "string" && x !== "" ? x : null);
  return {
    path: str(d.path),
    url: str(d.url),
    size: typeof d.size === "number" ? d.size : null,
    isText: d.is_text !== false,
    encoding: str(d.encoding),
  };
}

export function baseName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}

/** One line for a table cell: `x.csv · 14 B · text`. */
export function includedFileText(file: IncludedFileInfo): string {
  const name = file.path ? baseName(file.path) : file.url ? baseName(file.url) : "included file";
  return `${name} · ${formatBytes(file.size)} · ${file.isText ? "text" : "binary"}`;
}
