import type { LiveEvent } from "@/contract/answer";
import type { ChangeDetector } from "./change-detector";
import { tooManyStreams, tooManyTopics } from "./live-limits";
import { type LiveStream, openLiveStream } from "./live-stream";
import { type LiveLog, type LiveRelay, Topic, type TopicSettings } from "./topic";

/**
 * Live topics: while a topic (a procedure and its input) has subscribers, one loop fetches it
 * when a table it reads changed (the change detector) and fans each change out to all of them —
 * QuestDB's load grows with neither viewers nor time, only with writes. Both kinds of live work
 * are bounded: topics per instance, and streams per holder (a session, a client address).
 * A topic is a state, not a log: a subscriber needs only the latest answer, so a slow one holds
 * one pending event, never a queue, and one that reconnects with the id it last saw gets the
 * current answer only if it is newer.
 *
 * In a fleet (`relay`), one instance per topic runs the loop (a short Redis claim it renews each
 * tick) and publishes each change; the others relay it to their own subscribers and take the loop
 * over when the claim lapses. Without Redis, every instance runs its own loop. How one topic moves
 * between those states is in ./topic.ts; what counts as a change, in ./changes.ts.
 */

export type { LiveEvent, LiveLog, LiveRelay, LiveStream };

export interface LiveTopicsOptions {
  /** The tick (claim, catch-up) and the refresh while the detector cannot vouch (LIVE_INTERVAL_MS). */
  intervalMs: number;
  /** Shortest time between two full queries of one topic (LIVE_MIN_INTERVAL_MS; default 0). */
  minIntervalMs?: number;
  /** The refresh while the detector vouches that nothing changed (default 60 × intervalMs). */
  safetyNetMs?: number;
  /** What tells a topic that a table it reads moved; without one, topics refresh every intervalMs. */
  detector?: ChangeDetector | null;
  relay?: LiveRelay | null;
  log?: LiveLog;
  /** Most topics at once (LIVE_MAX_TOPICS; default unbounded). */
  maxTopics?: number;
  /** Most streams one holder (a session, a client address) may have open (LIVE_MAX_STREAMS_PER_CLIENT). */
  maxStreamsPerHolder?: number;
}

/** What one subscription asks for. */
export interface LiveRequest<T> {
  topic: string;
  fetch: () => Promise<T>;
  /** The tables its query reads, for the change detector. */
  tables?: readonly string[];
  lastEventId?: string | null;
  signal: AbortSignal;
  /** Who holds the stream, each counted against the per-holder limit: e.g. `session:…`, `client:…`. */
  holders?: readonly string[];
}

export interface LiveTopics {
  /**
   * The topic's answers as they change, from the current one on (skipped when it is the one
   * `lastEventId` names), until `signal` aborts. `fetch` is called by the topic's one loop.
   * Throws LiveLimitError at once when a holder or the instance is at its limit.
   */
  subscribe<T>(request: LiveRequest<T>): LiveStream<T>;
  stats(): { topics: number; subscribers: number; loops: number };
  close(): void;
}

/** While the detector vouches that nothing changed, a full refresh this many ticks apart (a minute at 1 s). */
const SAFETY_NET_TICKS = 60;

/** A topic that never runs: what a stream opened after close() (or with its signal aborted) reads. */
const stoppedTopic = (() => {
  const topic = new Topic("", async () => undefined, [], {
    intervalMs: 1,
    minIntervalMs: 0,
    safetyNetMs: 1,
    detector: null,
    relay: null,
    log: () => undefined,
    onEmpty: () => undefined,
  });
  topic.stop();
  return topic;
})();

export function createLiveTopics(options: LiveTopicsOptions): LiveTopics {
  const topics = new Map<string, Topic>();
  const streamsOf = new Map<string, number>();
  let closed = false;
  const settings: TopicSettings = {
    intervalMs: options.intervalMs,
    minIntervalMs: options.minIntervalMs ?? 0,
    safetyNetMs: options.safetyNetMs ?? options.intervalMs * SAFETY_NET_TICKS,
    detector: options.detector ?? null,
    relay: options.relay ?? null,
    log: options.log ?? (() => undefined),
    onEmpty: (topic) => {
      if (topics.get(topic.key) === topic) topics.delete(topic.key);
    },
  };
  const maxTopics = options.maxTopics ?? Number.POSITIVE_INFINITY;
  const maxStreams = options.maxStreamsPerHolder ?? Number.POSITIVE_INFINITY;

  function topicFor(key: string, fetch: () => Promise<unknown>, tables: readonly string[]): Topic {
    const existing = topics.get(key);
    if (existing) return existing;
    if (topics.size >= maxTopics) throw tooManyTopics(maxTopics);
    const topic = new Topic(key, fetch, tables, settings);
    topics.set(key, topic);
    topic.start();
    return topic;
  }

  /** Counts the stream against each holder; the returned function gives the places back, once. */
  function hold(holders: readonly string[]): () => void {
    const over = holders.find((holder) => (streamsOf.get(holder) ?? 0) >= maxStreams);
    if (over !== undefined) throw tooManyStreams(maxStreams, over);
    for (const holder of holders) streamsOf.set(holder, (streamsOf.get(holder) ?? 0) + 1);
    return () => {
      for (const holder of holders) {
        const left = (streamsOf.get(holder) ?? 1) - 1;
        if (left > 0) streamsOf.set(holder, left);
        else streamsOf.delete(holder);
      }
    };
  }

  return {
    subscribe<T>(request: LiveRequest<T>): LiveStream<T> {
      const release = hold(request.holders ?? []);
      try {
        if (closed || request.signal.aborted) return openLiveStream<T>(stoppedTopic, null, request.signal, release);
        const topic = topicFor(request.topic, request.fetch, request.tables ?? []);
        return openLiveStream<T>(topic, request.lastEventId, request.signal, release);
      } catch (error) {
        release();
        throw error;
      }
    },
    stats() {
      let subscribers = 0;
      let loops = 0;
      for (const topic of topics.values()) {
        subscribers += topic.subscribers.size;
        if (topic.runsLoop) loops += 1;
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
