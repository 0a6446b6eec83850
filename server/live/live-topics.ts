import { randomBytes } from "node:crypto";

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

export interface LiveEvent<T = unknown> {
  /** `<loop id>.<sequence>`: the same on every instance of a fleet, newer sequences are newer. */
  id: string;
  answer: T;
}

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
  subscribe<T>(topic: string, fetch: () => Promise<T>, lastEventId: string | null | undefined, signal: AbortSignal): AsyncGenerator<LiveEvent<T>>;
  stats(): { topics: number; subscribers: number; loops: number };
  close(): void;
}

interface Subscriber {
  pending: LiveEvent | null;
  wake: (() => void) | null;
}

interface Topic {
  key: string;
  fetch: () => Promise<unknown>;
  subscribers: Set<Subscriber>;
  latest: LiveEvent | null;
  /** What `latest` says, without the fields that change on every fetch. */
  fingerprint: string | null;
  seq: number;
  loopId: string;
  timer: NodeJS.Timeout | null;
  ticking: boolean;
  /** In a fleet: whether this instance runs the loop (else it relays). */
  owner: boolean;
  stopListening: (() => void) | null;
}

/** A fresh answer every tick differs only in its fetch time; that is not a change worth sending. */
export function fingerprintOf(answer: unknown): string {
  if (answer && typeof answer === "object" && "fetchedAt" in answer) {
    const { fetchedAt: _ignored, ...rest } = answer as Record<string, unknown>;
    return JSON.stringify(rest);
  }
  return JSON.stringify(answer);
}

/** Whether event id `a` is newer than `b` within one loop (ids of another loop are never "not newer"). */
function sameOrOlder(id: string, than: string | null | undefined): boolean {
  if (!than) return false;
  const [loop, seq] = id.split(".");
  const [otherLoop, otherSeq] = than.split(".");
  return loop === otherLoop && Number(seq) <= Number(otherSeq);
}

export function createLiveTopics(options: LiveTopicsOptions): LiveTopics {
  const { intervalMs, relay = null } = options;
  const log: LiveLog = options.log ?? (() => undefined);
  const topics = new Map<string, Topic>();
  /** A claim outlives three missed renewals, so one slow tick does not hand the loop over. */
  const claimTtlMs = intervalMs * 3;
  let closed = false;

  function deliver(topic: Topic, event: LiveEvent): void {
    if (topic.latest && sameOrOlder(event.id, topic.latest.id)) return;
    topic.latest = event;
    topic.fingerprint = fingerprintOf(event.answer);
    for (const subscriber of topic.subscribers) {
      subscriber.pending = event;
      subscriber.wake?.();
    }
  }

  async function fetchAndFanOut(topic: Topic): Promise<void> {
    let answer: unknown;
    try {
      answer = await topic.fetch();
    } catch (error) {
      // The resilient layer answers with a union; a throw here is a bug, logged, and the loop goes on.
      log("warn", "live.fetch_failed", { topic: topic.key, error: error instanceof Error ? error.message || error.name : String(error) });
      return;
    }
    if (topics.get(topic.key) !== topic) return;
    const fingerprint = fingerprintOf(answer);
    if (fingerprint === topic.fingerprint) return;
    topic.seq += 1;
    const event: LiveEvent = { id: `${topic.loopId}.${topic.seq}`, answer };
    deliver(topic, event);
    if (relay && topic.owner) await relay.publish(topic.key, JSON.stringify(event));
  }

  async function tick(topic: Topic): Promise<void> {
    if (topic.ticking) return;
    topic.ticking = true;
    try {
      if (relay) {
        const claimed = await relay.claim(topic.key, claimTtlMs);
        // Redis unavailable (undefined): run the loop here rather than show nothing.
        const owner = claimed !== false;
        if (owner && !topic.owner) {
          // A new owner starts a new loop id: its sequence is its own.
          topic.loopId = newLoopId();
          topic.seq = 0;
          log("info", "live.loop_taken", { topic: topic.key, redis: claimed === undefined ? "unavailable" : "ok" });
        }
        topic.owner = owner;
        if (!owner) return; // the owner's changes arrive through listen()
      }
      await fetchAndFanOut(topic);
    } finally {
      topic.ticking = false;
    }
  }

  function open(key: string, fetch: () => Promise<unknown>): Topic {
    const existing = topics.get(key);
    if (existing) return existing;
    const topic: Topic = {
      key,
      fetch,
      subscribers: new Set(),
      latest: null,
      fingerprint: null,
      seq: 0,
      loopId: newLoopId(),
      timer: null,
      ticking: false,
      owner: false,
      stopListening: null,
    };
    topics.set(key, topic);
    if (relay) {
      topic.stopListening = relay.listen(key, (message) => {
        const event = parseEvent(message);
        if (event && !topic.owner) deliver(topic, event);
      });
      void relay.latest(key).then((message) => {
        const event = message ? parseEvent(message) : null;
        if (event && !topic.latest && !topic.owner) deliver(topic, event);
      });
    }
    void tick(topic);
    topic.timer = setInterval(() => void tick(topic), intervalMs);
    topic.timer.unref?.();
    return topic;
  }

  function leave(topic: Topic, subscriber: Subscriber): void {
    topic.subscribers.delete(subscriber);
    if (topic.subscribers.size > 0 || topics.get(topic.key) !== topic) return;
    // The last one left: the loop stops (a fleet's claim lapses by itself within its TTL).
    if (topic.timer) clearInterval(topic.timer);
    topic.stopListening?.();
    topics.delete(topic.key);
  }

  return {
    async *subscribe<T>(key: string, fetch: () => Promise<T>, lastEventId: string | null | undefined, signal: AbortSignal) {
      if (closed || signal.aborted) return;
      const topic = open(key, fetch);
      const subscriber: Subscriber = { pending: null, wake: null };
      if (topic.latest && !sameOrOlder(topic.latest.id, lastEventId)) subscriber.pending = topic.latest;
      topic.subscribers.add(subscriber);
      const onAbort = () => subscriber.wake?.();
      signal.addEventListener("abort", onAbort);
      try {
        while (!signal.aborted && !closed) {
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
        leave(topic, subscriber);
      }
    },
    stats() {
      let subscribers = 0;
      let loops = 0;
      for (const topic of topics.values()) {
        subscribers += topic.subscribers.size;
        if (!relay || topic.owner) loops += 1;
      }
      return { topics: topics.size, subscribers, loops };
    },
    close() {
      closed = true;
      for (const topic of topics.values()) {
        if (topic.timer) clearInterval(topic.timer);
        topic.stopListening?.();
        for (const subscriber of topic.subscribers) subscriber.wake?.();
      }
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
