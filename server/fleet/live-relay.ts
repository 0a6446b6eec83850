import type { LiveRelay } from "@/server/live/live-topics";
import type { FleetRedis } from "./redis-connection";

/**
 * Live topics shared by a fleet: one instance per topic holds a short claim (renewed every tick)
 * and publishes each change; the others listen. The latest change is also kept, for instances
 * whose first viewer arrives between two changes and for relays that missed a message. Its age is
 * Redis's own (the key's remaining TTL, reset by each publish and each renewal of the claim), so
 * no host's clock decides whether a loop still confirms it. Every call is the guarded `run`:
 * without Redis it answers `undefined`, and each instance runs its own loop.
 */

/**
 * Take the claim when free, renew it when ours; 1 when this instance holds it afterwards. A renewal
 * also confirms the topic's latest (KEYS[2]): the loop that keeps it is still running.
 */
const CLAIM_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** How long the latest change of a topic is kept for late joiners. */
const LATEST_TTL_MS = 10 * 60_000;

export function createLiveRelay(conn: FleetRedis, opts: { prefix: string }): LiveRelay {
  const claimKey = (topic: string) => `${opts.prefix}live:loop:${topic}`;
  const latestKey = (topic: string) => `${opts.prefix}live:latest:${topic}`;
  const channel = (topic: string) => `${opts.prefix}live:changes:${topic}`;
  return {
    async claim(topic, ttlMs) {
      const keys = [claimKey(topic), latestKey(topic)];
      const held = await conn.run((redis) =>
        redis.eval(CLAIM_SCRIPT, 2, ...keys, conn.instanceId, String(ttlMs), String(LATEST_TTL_MS)),
      );
      return held === undefined ? undefined : held === 1;
    },
    async publish(topic, event) {
      await conn.run((redis) =>
        redis.multi().set(latestKey(topic), event, "PX", LATEST_TTL_MS).publish(channel(topic), event).exec(),
      );
    },
    async latest(topic, maxAgeMs) {
      const key = latestKey(topic);
      const replies = await conn.run((redis) => redis.multi().get(key).pttl(key).exec());
      const [event, remainingMs] = [replies?.[0]?.[1], replies?.[1]?.[1]];
      if (typeof event !== "string" || typeof remainingMs !== "number") return undefined;
      const ageMs = LATEST_TTL_MS - remainingMs;
      return maxAgeMs !== undefined && ageMs > maxAgeMs ? undefined : event;
    },
    listen(topic, onEvent) {
      return conn.subscribe(channel(topic), onEvent);
    },
  };
}
