// The order of a task's artifacts in its Artifacts panel (pure, unit-tested).

/** The flow's own artifacts first (in the server's order), then Metaflow's internal ones (a name
 * starting with "_": _graph_info, _foreach_stack, _transition, …), which a Metaflow run records
 * a dozen of on every task and which would otherwise come first. */
export function splitArtifacts<T extends { name: string }>(list: readonly T[]): { own: T[]; internal: T[] } {
  const own: T[] = [];
  const internal: T[] = [];
  for (const a of list) (a.name.startsWith("_") ? internal : own).push(a);
  return { own, internal };
}
