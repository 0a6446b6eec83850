import type { FleetRedis } from "@/server/fleet/redis-connection";

/**
 * The word that a session has ended (signed out, or out after a re-check), so that its open live
 * streams end at once: in this process directly, and in fleet mode on every instance through one
 * Redis channel. A lost message is not the last word: each instance also reads the session store
 * again while a stream is open (server/auth/sessions.ts).
 */
export interface SessionEndings {
  announce(sid: string): Promise<void>;
  /** Calls `listener` with each ended session's id; returns the way to stop. */
  listen(listener: (sid: string) => void): () => void;
}

export function createLocalSessionEndings(): SessionEndings {
  const listeners = new Set<(sid: string) => void>();
  return {
    async announce(sid) {
      for (const listener of listeners) listener(sid);
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The local endings, plus a Redis channel that carries them to (and from) the other instances. */
export function createFleetSessionEndings(conn: FleetRedis, prefix: string): SessionEndings {
  const local = createLocalSessionEndings();
  const channel = `${prefix}session:ended`;
  conn.subscribe(channel, (sid) => void local.announce(sid));
  return {
    async announce(sid) {
      await local.announce(sid);
      await conn.run((redis) => redis.publish(channel, sid));
    },
    listen: local.listen,
  };
}
