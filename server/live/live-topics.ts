import type { LiveEvent } from "@/contract/answer";
import { type LiveLog, type LiveRelay, Topic, type TopicSettings } from "./topic";

/**
 * Live topics: while a topic (a procedure and its input) has subscribers, one loop fetches it
 * every `intervalMs` and fans each change out to all of them — QuestDB's load does not grow with
 * viewers. A topic is a state, not a log: a subscriber needs only the latest answer, so a slow one
 * holds one pending event, never a queue, and one that reconnects with the id it last saw gets
 * the current answer only if it is newer.
 *
 * In a fleet (`relay`), one instance per topic runs the loop (a short Redis claim it renews each
 * tick) and publishes each change; the others relay it to their own subscribers and take the loop
 * over when the claim lapses. Without Redis, every instance runs its own loop. How one topic moves
 * between those states is in ./topic.ts; what counts as a change, in ./changes.ts.
 */

export type { LiveEvent, LiveLog, LiveRelay };

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
