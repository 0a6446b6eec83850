import { z } from "zod";
import type { FleetRedis } from "./redis-connection";

/**
 * The QuestDB endpoint breaker's state, shared by the fleet: an instance whose breaker opens or
 * closes announces it on a channel (the others follow at once instead of each paying for its own
 * failures) and leaves it in `<prefix>breaker` for instances that start later. Only one instance
 * sends the half-open probe. Without Redis, each instance keeps its own breaker.
 */

const announcementSchema = z.object({
  state: z.enum(["open", "closed"]),
  from: z.string(),
  /** When it was announced (epoch ms), to judge how old a stored state is. */
  at: z.number(),
  retryAt: z.number().optional(),
  cause: z.string().optional(),
});

export type BreakerAnnouncement = z.infer<typeof announcementSchema>;

export interface SharedBreakerOptions {
  channel: string;
  /** Prepended to the state key (`<prefix>breaker`) and the probe lock (`<prefix>breaker:probe`). */
  prefix: string;
  /** Defaults to the connection's. */
  instanceId?: string;
  /** How long a late joiner trusts a stored announcement. */
  stateTtlMs?: number;
  now?: () => number;
}

export interface SharedBreaker {
  announce(state: "open" | "closed", info?: { retryAt?: number; cause?: string }): Promise<void>;
  /** Announcements from the other instances (never this one's own); returns the way to stop listening. */
  onAnnouncement(listener: (announcement: BreakerAnnouncement) => void): () => void;
  /** True: this instance sends the half-open probe (also when Redis is unavailable). */
  claimProbe(ttlMs: number): Promise<boolean>;
  /** The last state announced by any instance, if still within its TTL. */
  current(): Promise<BreakerAnnouncement | undefined>;
}

export const DEFAULT_BREAKER_STATE_TTL_MS = 60_000;

export function createSharedBreaker(conn: FleetRedis, options: SharedBreakerOptions): SharedBreaker {
  const instanceId = options.instanceId ?? conn.instanceId;
  const now = options.now ?? Date.now;
  const stateKey = `${options.prefix}breaker`;
  const probeKey = `${options.prefix}breaker:probe`;
  const stateTtlMs = options.stateTtlMs ?? DEFAULT_BREAKER_STATE_TTL_MS;

  return {
    async announce(state, info = {}) {
      const message = JSON.stringify({ state, from: instanceId, at: now(), ...info } satisfies BreakerAnnouncement);
      // One round trip, both or neither: a MULTI keeps the stored state and the message in step.
      await conn.run((redis) =>
        redis.multi().set(stateKey, message, "PX", stateTtlMs).publish(options.channel, message).exec(),
      );
    },
    onAnnouncement(listener) {
      return conn.subscribe(options.channel, (message) => {
        const announcement = parseAnnouncement(message);
        if (announcement && announcement.from !== instanceId) listener(announcement);
      });
    },
    async claimProbe(ttlMs) {
      const reply = await conn.run((redis) => redis.set(probeKey, instanceId, "PX", ttlMs, "NX"));
      return reply === undefined ? true : reply === "OK";
    },
    async current() {
      const stored = await conn.run((redis) => redis.get(stateKey));
      return stored ? parseAnnouncement(stored) : undefined;
    },
  };
}

/** Undefined for anything that is not an announcement (another tool publishing on the channel). */
function parseAnnouncement(message: string): BreakerAnnouncement | undefined {
  try {
    const parsed = announcementSchema.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
