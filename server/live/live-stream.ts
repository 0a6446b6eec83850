import type { LiveEvent } from "@/contract/answer";
import type { Topic, TopicSubscriber } from "./topic";

/**
 * One subscriber's stream of a topic, read one of two ways: iterated (`for await`: what tRPC's own
 * SSE producer and tests do; the stream holds one pending event, never a queue), or attached to a
 * sink (`attach`: the broadcast response, server/live/sse-broadcast.ts, which writes each event's
 * frame — encoded once per event — without an async step per stream). Either way it leaves the
 * topic, and frees its place under the stream limits, exactly once: when the reader stops, the
 * signal aborts or the topic stops.
 */

/** Where an attached stream's events go. */
export interface LiveSink {
  offer(event: LiveEvent): void;
  /** No more events: the topic stopped or the signal aborted. */
  end(): void;
}

export interface LiveStream<T> extends AsyncIterable<LiveEvent<T>> {
  /** Hands every event to `sink` as it comes, instead of being iterated; returns the way out. */
  attach(sink: LiveSink): () => void;
}

export function openLiveStream<T>(
  topic: Topic,
  lastEventId: string | null | undefined,
  signal: AbortSignal,
  release: () => void,
): LiveStream<T> {
  let consumed = false;
  let closed = false;
  let subscriber: TopicSubscriber | null = null;
  let onEnd: () => void = () => undefined;
  const close = () => {
    if (closed) return;
    closed = true;
    signal.removeEventListener("abort", close);
    if (subscriber) topic.leave(subscriber);
    release();
    onEnd();
  };
  signal.addEventListener("abort", close);
  const take = () => {
    if (consumed) throw new Error("a live stream is read once");
    consumed = true;
  };

  return {
    attach(sink) {
      take();
      onEnd = () => sink.end();
      if (closed) sink.end();
      else {
        subscriber = { seen: null, offer: (event) => sink.offer(event), end: close };
        topic.join(subscriber, lastEventId);
      }
      return close;
    },
    async *[Symbol.asyncIterator]() {
      take();
      const slot: { pending: LiveEvent | null; wake: (() => void) | null } = { pending: null, wake: null };
      onEnd = () => slot.wake?.();
      const own: TopicSubscriber = {
        seen: null,
        offer: (event) => {
          slot.pending = event;
          slot.wake?.();
        },
        end: close,
      };
      subscriber = own;
      if (!closed) topic.join(own, lastEventId);
      try {
        while (!closed) {
          const event = slot.pending;
          if (event) {
            slot.pending = null;
            yield event as LiveEvent<T>;
            continue;
          }
          await new Promise<void>((resolve) => (slot.wake = resolve));
          slot.wake = null;
        }
      } finally {
        close();
      }
    },
  };
}
