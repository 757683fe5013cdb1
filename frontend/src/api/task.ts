// Queries about one task: the task with its attempts, artifacts, metadata and cards.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { apiUrl, getJson, seg } from "./client";
import type { Artifact, ArtifactValue, Card, ListPage, MetadataEntry, Task } from "./types";
import { taskPath, type TaskRef } from "./paths";
import { useLiveResource } from "../live/useLive";

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

/** A task's cards, and why cards its run recorded are not listed (a Metaflow run whose cards
 * were saved to another card store than its datastore root names; docs/metaflow.md#cards). */
export interface CardList {
  cards: Card[];
  notice: string | null;
}

/** The task's cards, kept current by the websocket feed (a live card's row changes on every refresh). */
export function useCards(t: TaskRef, attempt: number | null, enabled: boolean) {
  const qc = useQueryClient();
  const key = ["cards", pathspecOf(t), attempt];
  const q = useQuery({
    queryKey: key,
    enabled,
    queryFn: ({ signal }): Promise<CardList> =>
      getJson<ListPage<Card> & { notice?: string | null }>(apiUrl(`${taskPath(t)}/cards`, { attempt }), signal)
        .then((r) => ({ cards: r.data, notice: r.notice ?? null })),
  });
  const cards = q.data?.cards;
  const live = enabled && cards !== undefined && (cards.length === 0 || cards.some((c) => c.final === false));
  // Subscribe from what the list showed, not from "now": a version (the final one, typically)
  // committed between the list's answer and the subscription is then still delivered.
  useLiveResource("cards", live ? apiUrl(`${taskPath(t)}/cards`, { attempt }) : null, live ? cardsSince(cards) : null, (event) => {
    const card = event.data as Card;
    if (attempt !== null && card.attempt !== attempt) return;
    qc.setQueryData<CardList>(key, (old) => ({ cards: mergeCard(old?.cards ?? [], card), notice: old?.notice ?? null }));
  });
  return q;
}

/** The position a cards subscription resumes from: the newest seq the list showed (0 if none). */
export function cardsSince(cards: Card[]): number {
  return cards.reduce((m, c) => Math.max(m, c.seq ?? 0), 0);
}

/** A card event into the list: replaces the card of the same id and attempt, or adds it (latest attempt first). */
export function mergeCard(cards: Card[], card: Card): Card[] {
  const at = cards.findIndex((c) => c.card_id === card.card_id && c.attempt === card.attempt);
  if (at >= 0) {
    const old = cards[at]!;
    if ((old.updated_at ?? 0) > (card.updated_at ?? 0) || (old.final && !card.final)) return cards;
    return cards.map((c, i) => (i === at ? { ...c, ...card } : c));
  }
  return [...cards, card].sort((a, b) => (b.attempt ?? 0) - (a.attempt ?? 0) || a.card_id.localeCompare(b.card_id));
}
