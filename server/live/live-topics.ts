import { randomBytes } from "node:crypto";
import type { LiveEvent } from "@/contract/answer";

/**
 * Live topics: while a topic (a procedure and its input) has subscribers, one loop fetches it
 * every `intervalMs` and fans each change out to all of them — QuestDB's load does not grow with
 * viewers. A topic is a state, not a log: a subscriber needs only the latest answer, so a slow one
 * holds one pending event, never a queue, and one that reconnects with the id it last saw gets
 * the current answer only if it is newer.
 *
 * In a fleet (`relay`), one instance per topic runs the loop (a short Redis claim it renews each
 * tick) and publishes each change; the others relay it to their own subscribers and take the loop
 * over when the claim lapses. Without Redis, every instance runs its own loop.
 */

export type { LiveEvent };

/** How a fleet shares topics (server/fleet/live-relay.ts); every call answers `undefined` without Redis. */
export interface LiveRelay {
  /** Takes or renews the topic's loop for `ttlMs`: true when this instance runs it. */
  claim(topic: string, ttlMs: number): Promise<boolean | undefined>;
  /** Sends a change to every instance and keeps it as the topic's latest, for instances that join later. */
  publish(topic: string, event: string): Promise<void>;
  latest(topic: string): Promise<string | undefined>;
  listen(topic: string, onEvent: (event: string) => void): () => void;
}

export type LiveLog = (level: "info" | "warn", event: string, fields: Record<string, unknown>) => void;

export interface LiveTopicsOptions {
  intervalMs: number;
  relay?: LiveRelay | null;
  log?: LiveLog;
}

export interface LiveTopics {
  /**
   * The topic's answers as they change, from the current one on (skipped when it is the one
   * `lastEventId` names), until `signal` aborts. `fetch` is called by the topic's one loop.
   */
  subscribe<T>(
    topic: string,
    fetch: () => Promise<T>,
    lastEventId: string | null | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<LiveEvent<T>>;
  stats(): { topics: number; subscribers: number; loops: number };
  close(): void;
}

interface Subscriber {
  pending: LiveEvent | null;
  wake: (() => void) | null;
}

/** A fresh answer every tick differs only in its fetch time; that is not a change worth sending. */
export function fingerprintOf(answer: unknown): string {
  if (answer && typeof answer === "object" && "fetchedAt" in answer) {
    const { fetchedAt: _ignored, ...rest } = answer as Record<string, unknown>;
    return JSON.stringify(rest);
  }
  return JSON.stringify(answer);
}

/** Whether event id `id` is not newer than `than` within one loop (ids of another loop are never "not newer"). */
function sameOrOlder(id: string, than: string | null | undefined): boolean {
  if (!than) return false;
  const [loop, seq] = id.split(".");
  const [otherLoop, otherSeq] = than.split(".");
  return loop === otherLoop && Number(seq) <= Number(otherSeq);
}

interface TopicSettings {
  intervalMs: number;
  relay: LiveRelay | null;
  log: LiveLog;
  /** Called once the last subscriber has left and the loop has stopped. */
  onEmpty: (topic: Topic) => void;
}

/** One topic: its subscribers, its latest event, and its loop (or, in a fleet, its relay). */
class Topic {
  readonly subscribers = new Set<Subscriber>();
  private latest: LiveEvent | null = null;
  /** What `latest` says, without the fields that change on every fetch. */
  private fingerprint: string | null = null;
  private seq = 0;
  private loopId = newLoopId();
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  /** In a fleet: whether this instance runs the loop (else it relays). */
  owner = false;
  private stopListening: (() => void) | null = null;

  constructor(
    readonly key: string,
    private readonly fetch: () => Promise<unknown>,
    private readonly settings: TopicSettings,
  ) {}

  start(): void {
    const { relay, intervalMs } = this.settings;
    if (relay) {
      this.stopListening = relay.listen(this.key, (message) => {
        const event = parseEvent(message);
        if (event && !this.owner) this.deliver(event);
      });
      void relay.latest(this.key).then((message) => {
        const event = message ? parseEvent(message) : null;
        if (event && !this.latest && !this.owner) this.deliver(event);
      });
    }
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref?.();
    void this.tick(); // the first answer now, not one period later
  }

  /** The topic's events for one subscriber, from the current one (unless `lastEventId` names it) until `signal` aborts. */
  async *stream<T>(
    lastEventId: string | null | undefined,
    signal: AbortSignal,
    closed: () => boolean,
  ): AsyncGenerator<LiveEvent<T>> {
    const subscriber: Subscriber = { pending: null, wake: null };
    if (this.latest && !sameOrOlder(this.latest.id, lastEventId)) subscriber.pending = this.latest;
    this.subscribers.add(subscriber);
    const onAbort = () => subscriber.wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted && !closed()) {
        const event = subscriber.pending;
        if (event) {
          subscriber.pending = null;
          yield event as LiveEvent<T>;
          continue;
        }
        await new Promise<void>((resolve) => (subscriber.wake = resolve));
        subscriber.wake = null;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.subscribers.delete(subscriber);
      // The last one left: the loop stops (a fleet's claim lapses by itself within its TTL).
      if (this.subscribers.size === 0) {
        this.stop();
        this.settings.onEmpty(this);
      }
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopListening?.();
    this.stopListening = null;
    for (const subscriber of this.subscribers) subscriber.wake?.();
  }

  private deliver(event: LiveEvent, fingerprint = fingerprintOf(event.answer)): void {
    if (this.latest && sameOrOlder(event.id, this.latest.id)) return;
    this.latest = event;
    this.fingerprint = fingerprint;
    for (const subscriber of this.subscribers) {
      subscriber.pending = event;
      subscriber.wake?.();
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.timer === null) return;
    this.ticking = true;
    try {
      if (this.settings.relay && !(await this.claimLoop(this.settings.relay))) return; // the owner's changes arrive through listen()
      await this.fetchAndFanOut();
    } finally {
      this.ticking = false;
    }
  }

  /** Takes or renews the fleet's loop; Redis unavailable: runs it here rather than show nothing. */
  private async claimLoop(relay: LiveRelay): Promise<boolean> {
    const claimed = await relay.claim(this.key, this.settings.intervalMs * 3);
    const owner = claimed !== false;
    if (owner && !this.owner) {
      // A new owner starts a new loop id: its sequence is its own.
      this.loopId = newLoopId();
      this.seq = 0;
      this.settings.log("info", "live.loop_taken", {
        topic: this.key,
        redis: claimed === undefined ? "unavailable" : "ok",
      });
    }
    this.owner = owner;
    return owner;
  }

  private async fetchAndFanOut(): Promise<void> {
    let answer: unknown;
    try {
      answer = await this.fetch();
    } catch (error) {
      // The resilient layer answers with a union; a throw here is a bug, logged, and the loop goes on.
      this.settings.log("warn", "live.fetch_failed", {
        topic: this.key,
        error: error instanceof Error ? error.message || error.name : String(error),
      });
      return;
    }
    if (this.timer === null) return; // stopped meanwhile
    const fingerprint = fingerprintOf(answer);
    if (fingerprint === this.fingerprint) return;
    this.seq += 1;
    const event: LiveEvent = { id: `${this.loopId}.${this.seq}`, answer };
    this.deliver(event, fingerprint);
    if (this.settings.relay && this.owner) await this.settings.relay.publish(this.key, JSON.stringify(event));
  }
}

export function createLiveTopics(options: LiveTopicsOptions): LiveTopics {
  const topics = new Map<string, Topic>();
  let closed = false;
  const settings: TopicSettings = {
    intervalMs: options.intervalMs,
    relay: options.relay ?? null,
    log: options.log ?? (() => undefined),
    onEmpty: (topic) => {
      if (topics.get(topic.key) === topic) topics.delete(topic.key);
    },
  };

  return {
    async *subscribe<T>(
      key: string,
      fetch: () => Promise<T>,
      lastEventId: string | null | undefined,
      signal: AbortSignal,
    ) {
      if (closed || signal.aborted) return;
      let topic = topics.get(key);
      if (!topic) {
        topic = new Topic(key, fetch, settings);
        topics.set(key, topic);
        topic.start();
      }
      yield* topic.stream<T>(lastEventId, signal, () => closed);
    },
    stats() {
      let subscribers = 0;
      let loops = 0;
      for (const topic of topics.values()) {
        subscribers += topic.subscribers.size;
        if (!settings.relay || topic.owner) loops += 1;
      }
      return { topics: topics.size, subscribers, loops };
    },
    close() {
      closed = true;
      for (const topic of topics.values()) topic.stop();
      topics.clear();
    },
  };
}

function newLoopId(): string {
  return randomBytes(4).toString("hex");
}

function parseEvent(message: string): LiveEvent | null {
  try {
    const event = JSON.parse(message) as LiveEvent;
    return typeof event.id === "string" && "answer" in event ? event : null;
  } catch {
    return null;
  }
}
