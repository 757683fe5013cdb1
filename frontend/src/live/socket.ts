// One websocket for the whole app. Subscriptions survive reconnects: each remembers the last
// `seq` it saw and re-subscribes with `since`, so the server replays what was missed (a query on
// its side), and the view catches up without a reload.

import type { FeedName, LiveFeeds } from "../api/types";

export type ConnectionState = "connecting" | "live" | "reconnecting" | "stale";

/** An insert or update of a subscribed resource; `data` has the schema of the resource's feed
 *  (LiveFeeds, generated from the server's OpenAPI document). */
export interface LiveEvent<F extends FeedName = FeedName> {
  type: "insert" | "update";
  id: string;
  resource: string;
  data: LiveFeeds[F];
  seq?: number;
}

type Handler = (event: LiveEvent) => void;

interface Subscription {
  id: string;
  resource: string;
  since: number | null;
  handler: Handler;
  onError?: (message: string) => void;
}

/** After this long without a connection the data on screen is called stale, not just reconnecting. */
const STALE_AFTER_MS = 15_000;
const PING_EVERY_MS = 20_000;

export class LiveSocket {
  private ws: WebSocket | null = null;
  private subs = new Map<string, Subscription>();
  private nextId = 1;
  private attempt = 0;
  private state: ConnectionState = "connecting";
  private listeners = new Set<() => void>();
  private disconnectedAt: number | null = null;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private lastMessageAt = Date.now();

  constructor(private readonly url: string) {}

  start(): void {
    this.open();
    this.pingTimer = setInterval(() => this.ping(), PING_EVERY_MS);
  }

  stop(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const t of this.timers) clearTimeout(t);
    const ws = this.ws;
    this.ws = null;
    ws?.close();
  }

  getState = (): ConnectionState => this.state;

  onState = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  subscribe(resource: string, since: number | null, handler: Handler, onError?: (m: string) => void): () => void {
    const id = `s${this.nextId++}`;
    const sub: Subscription = { id, resource, since, handler, onError };
    this.subs.set(id, sub);
    this.sendSubscribe(sub);
    return () => {
      this.subs.delete(id);
      this.send({ type: "unsubscribe", id });
    };
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    for (const l of this.listeners) l();
  }

  private open(): void {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.disconnectedAt = null;
      this.lastMessageAt = Date.now();
      this.setState("live");
      for (const sub of this.subs.values()) this.sendSubscribe(sub);
    };
    ws.onmessage = (msg) => {
      this.lastMessageAt = Date.now();
      let event: { type?: string; id?: string; message?: string; seq?: number };
      try {
        event = JSON.parse(String(msg.data)) as typeof event;
      } catch {
        return;
      }
      if (!event.id) return;
      const sub = this.subs.get(event.id);
      if (!sub) return;
      if (event.type === "subscribed") {
        // The server's position at subscription: a reconnect resumes from here even if no event came.
        if (typeof event.seq === "number") sub.since = Math.max(sub.since ?? 0, event.seq);
        return;
      }
      if (event.type === "error") {
        sub.onError?.(event.message ?? "subscription failed");
        return;
      }
      if (event.type !== "insert" && event.type !== "update") return;
      if (typeof event.seq === "number") sub.since = Math.max(sub.since ?? 0, event.seq);
      sub.handler(event as LiveEvent);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.disconnectedAt ??= Date.now();
      this.setState(Date.now() - this.disconnectedAt > STALE_AFTER_MS ? "stale" : "reconnecting");
      // Exponential backoff with jitter, capped, so a restarting server is not stampeded.
      const delay = Math.min(10_000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
      this.attempt += 1;
      this.timers.push(setTimeout(() => this.open(), delay));
      this.timers.push(setTimeout(() => {
        if (this.state === "reconnecting") this.setState("stale");
      }, STALE_AFTER_MS));
    };
  }

  private ping(): void {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    // A half-open TCP connection never fires close: if nothing came back since the last ping, drop it.
    if (Date.now() - this.lastMessageAt > PING_EVERY_MS * 2.5) {
      this.ws.close();
      return;
    }
    this.send({ type: "ping" });
  }

  private sendSubscribe(sub: Subscription): void {
    const msg: Record<string, unknown> = { type: "subscribe", id: sub.id, resource: sub.resource };
    if (sub.since !== null) msg.since = sub.since;
    this.send(msg);
  }

  private send(msg: Record<string, unknown>): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }
}

let shared: LiveSocket | null = null;

/** The app's socket, created on first use (never at import time, so unit tests stay pure). */
export function liveSocket(): LiveSocket {
  if (!shared) {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    shared = new LiveSocket(`${proto}//${location.host}/api/ws`);
    shared.start();
  }
  return shared;
}
