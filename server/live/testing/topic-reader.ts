import type { LiveEvent, LiveTopics } from "@/server/live/live-topics";

/** What a test's subscriber collected, and the way to leave. */
export interface TopicReader<T> {
  events: LiveEvent<T>[];
  stop(): Promise<void>;
}

/** Subscribes to `topic` and collects its events until stop(). */
export function readTopic<T>(
  live: LiveTopics,
  topic: string,
  fetch: () => Promise<T>,
  lastEventId?: string,
  tables?: readonly string[],
): TopicReader<T> {
  const controller = new AbortController();
  const events: LiveEvent<T>[] = [];
  const done = (async () => {
    for await (const event of live.subscribe({ topic, fetch, lastEventId, signal: controller.signal, tables }))
      events.push(event);
  })();
  return {
    events,
    async stop() {
      controller.abort();
      await done;
    },
  };
}

/** A fetch that answers like the resilient layer (fetchedAt new on every call) with `value()`, counting its calls. */
export function countedAnswers(value: () => number) {
  let calls = 0;
  return {
    fetch: async () => {
      calls += 1;
      return { status: "ok", data: value(), fetchedAt: new Date(Date.now() + calls).toISOString() };
    },
    calls: () => calls,
  };
}

/** The `data` of each event, in order. */
export const dataOf = (events: LiveEvent[]) => events.map((event) => (event.answer as { data: number }).data);
