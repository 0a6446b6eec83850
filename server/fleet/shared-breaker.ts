import { z } from "zod";
import type { FleetRedis } from "./redis-connection";

/**
 * The QuestDB endpoint breaker's state, shared by the fleet: an instance whose breaker opens or
 * closes announces it on a channel and leaves it in `<prefix>breaker` for instances that start
 * later. An announcement names its instance and expires (`ttlMs`, kept by Redis for the stored
 * one, so no host's clock judges its age); what a hearer does with it is ./breaker-link.ts's.
 * Only one instance sends the half-open probe. Without Redis, each instance keeps its own breaker.
 */

const announcementSchema = z.object({
  state: z.enum(["open", "closed"]),
  from: z.string(),
  /** When it was announced (epoch ms, the announcer's clock: for people, not for judging its age). */
  at: z.number(),
  /** How long a hearer may act on it, from when it hears it (for the stored one: Redis's expiry). */
  ttlMs: z.number().int().positive().optional(),
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
  announce(state: "open" | "closed", info?: { retryAt?: number; cause?: string; ttlMs?: number }): Promise<void>;
  /** Announcements from the other instances (never this one's own); returns the way to stop listening. */
  onAnnouncement(listener: (announcement: BreakerAnnouncement) => void): () => void;
  /** True: this instance sends the half-open probe (also when Redis is unavailable). */
  claimProbe(ttlMs: number): Promise<boolean>;
  /** The last state announced by any instance, unless it expired (its own `ttlMs`, else `stateTtlMs`). */
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
      const keepMs = info.ttlMs ?? stateTtlMs;
      await conn.run((redis) =>
        redis.multi().set(stateKey, message, "PX", keepMs).publish(options.channel, message).exec(),
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
