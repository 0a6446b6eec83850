import type Redis from "ioredis";

/**
 * The channels this instance listens to, on its subscriber connection. The set of channels is
 * kept here and SUBSCRIBEd again at every `ready`, instead of relying on ioredis's
 * autoResubscribe: that only replays a connection that had been ready before (not one that
 * was down when `add` was called), and its internal SUBSCRIBE has no rejection handler.
 */

type Listener = (message: string) => void;

/** A channel being subscribed counts as live this long: a new topic must not flap /api/health. */
const CONFIRM_GRACE_MS = 2_000;
type Log = (event: string, fields: Record<string, unknown>) => void;

export function createSubscriptions(subscriber: Redis, log: Log) {
  const listeners = new Map<string, Set<Listener>>();
  // Channels Redis confirmed on the current connection; a new connection starts with none.
  const confirmed = new Set<string>();
  // When each channel was last asked for and is not confirmed yet.
  const askedAt = new Map<string, number>();

  function subscribeNow(channels: string[]): void {
    if (channels.length === 0 || subscriber.status !== "ready") return;
    for (const channel of channels) askedAt.set(channel, Date.now());
    subscriber.subscribe(...channels).then(
      () =>
        channels.forEach((channel) => {
          askedAt.delete(channel);
          if (listeners.has(channel)) confirmed.add(channel);
        }),
      // The next `ready` subscribes again.
      (error: unknown) => log("fleet.redis_subscribe_failed", { channels, error: String(error) }),
    );
  }

  subscriber.on("ready", () => subscribeNow([...listeners.keys()]));
  subscriber.on("close", () => confirmed.clear());
  subscriber.on("message", (channel: string, message: string) => {
    for (const listener of listeners.get(channel) ?? []) {
      // A listener's mistake must not reach ioredis's reply parser.
      try {
        listener(message);
      } catch (error) {
        log("fleet.redis_listener_failed", { channel, error: String(error) });
      }
    }
  });

  return {
    add(channel: string, listener: Listener): () => void {
      const existing = listeners.get(channel);
      if (existing) existing.add(listener);
      else {
        listeners.set(channel, new Set([listener]));
        subscribeNow([channel]);
      }
      return () => {
        const set = listeners.get(channel);
        set?.delete(listener);
        if (!set || set.size > 0) return;
        listeners.delete(channel);
        confirmed.delete(channel);
        askedAt.delete(channel);
        if (subscriber.status === "ready") subscriber.unsubscribe(channel).catch(() => undefined);
      };
    },
    /** Every channel listened to is subscribed on the current connection (or was asked for a moment ago). */
    live: () => {
      const now = Date.now();
      return [...listeners.keys()].every(
        (channel) => confirmed.has(channel) || now - (askedAt.get(channel) ?? -Infinity) < CONFIRM_GRACE_MS,
      );
    },
  };
}
