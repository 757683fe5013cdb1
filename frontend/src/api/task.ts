// Queries about one task: the task with its attempts, artifacts, metadata and cards.
import { useQuery } from "@tanstack/react-query";
import { apiUrl, getJson, seg } from "./client";
import type { Artifact, ArtifactValue, Card, ListPage, MetadataEntry, Task } from "./types";
import { taskPath, type TaskRef } from "./paths";

export { taskPath, type TaskRef };

export const pathspecOf = (t: TaskRef): string => `${t.flow}/${t.run}/${t.step}/${t.task}`;

export function useTask(t: TaskRef) {
  return useQuery({
    queryKey: ["task", pathspecOf(t)],
    queryFn: ({ signal }) => getJson<{ data: Task }>(apiUrl(taskPath(t)), signal).then((r) => r.data),
  });
}

export function useArtifacts(t: TaskRef, attempt: number | null, enabled: boolean) {
  return useQuery({
    queryKey: ["artifacts", pathspecOf(t), attempt],
    enabled,
    queryFn: ({ signal }) =>
      getJson<ListPage<Artifact>>(apiUrl(`${taskPath(t)}/artifacts`, { attempt, limit: 1000 }), signal).then((r) => r.data),
  });
}

export function useArtifactValue(t: TaskRef, name: string | null, attempt: number | null) {
  return useQuery({
    queryKey: ["artifact", pathspecOf(t), name, attempt],
    enabled: name !== null,
    queryFn: ({ signal }) =>
      getJson<{ data: ArtifactValue }>(apiUrl(`${taskPath(t)}/artifacts/${seg(name ?? "")}`, { attempt }), signal)
        .then((r) => r.data),
  });
}

export function useMetadata(t: TaskRef, enabled: boolean) {
  return useQuery({
    queryKey: ["metadata", pathspecOf(t)],
    enabled,
    queryFn: ({ signal }) =>
      getJson<ListPage<MetadataEntry>>(apiUrl(`${taskPath(t)}/metadata`, { limit: 1000 }), signal).then((r) => r.data),
  });
}

export function useCards(t: TaskRef, attempt: number | null, enabled: boolean) {
  return useQuery({
    queryKey: ["cards", pathspecOf(t), attempt],
    enabled,
    queryFn: ({ signal }) =>
      getJson<ListPage<Card>>(apiUrl(`${taskPath(t)}/cards`, { attempt }), signal).then((r) => r.data),
  });
}
