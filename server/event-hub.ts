/**
 * A small typed event hub: the parts publish what happened, and whoever cares subscribes. The
 * composition root (server/compose.ts) hands the parts `publish` and wires the subscribers, so
 * no part knows who listens. Subscribers run in the order they subscribed, synchronously.
 */

export interface EventHub<E> {
  publish(event: E): void;
  /** Returns the way to stop listening. */
  subscribe(listener: (event: E) => void): () => void;
}

export function createEventHub<E>(): EventHub<E> {
  const listeners = new Set<(event: E) => void>();
  return {
    publish(event) {
      for (const listener of listeners) listener(event);
    },
    subscribe(listener) {
      // A wrapper of its own, so the same function subscribed twice is told twice and stopped once.
      const own = (event: E) => listener(event);
      listeners.add(own);
      return () => listeners.delete(own);
    },
  };
}
