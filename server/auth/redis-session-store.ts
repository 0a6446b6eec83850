import type { FleetRedis } from "@/server/fleet/redis-connection";
import { SESSION_ID_PATTERN, parseSessionJson, type SessionRecord } from "./session-record";
import type { SessionStore } from "./session-store";

/**
 * Sessions of a fleet (REDIS_URL set): one Redis key per session, expiring with it, so a sign-out
 * on any instance is a sign-out on all. Every call goes through the fleet connection's timeout and
 * breaker: `undefined` (unavailable) rather than a wait or an exception.
 */

type Log = (event: string, fields: Record<string, unknown>) => void;

export function createRedisSessionStore(
  conn: FleetRedis,
  opts: { prefix: string; now?: () => number; log?: Log },
): SessionStore {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => undefined);
  const keyOf = (sid: string) => `${opts.prefix}session:${sid}`;
  const ttlOf = (record: SessionRecord) => Math.max(1, record.expiresAt - now());

  async function write(record: SessionRecord, when: "NX" | "XX"): Promise<boolean> {
    const answer = await conn.run((redis) =>
      redis.set(keyOf(record.sid), JSON.stringify(record), "PX", ttlOf(record), when as "NX"),
    );
    return answer === "OK";
  }

  return {
    async read(sid) {
      if (!SESSION_ID_PATTERN.test(sid)) return null;
      const text = await conn.run((redis) => redis.get(keyOf(sid)));
      if (text === undefined || text === null) return text;
      const record = parseSessionJson(text, sid);
      if (record === null) log("auth.session_record_invalid", { key: keyOf(sid) });
      return record;
    },
    create: (record) => write(record, "NX"),
    update: (record) => write(record, "XX"),
    async remove(sid) {
      return (await conn.run((redis) => redis.del(keyOf(sid)))) !== undefined;
    },
    async claimRecheck(sid, forMs) {
      const claimed = await conn.run((redis) =>
        redis.set(`${opts.prefix}session-recheck:${sid}`, conn.instanceId, "PX", forMs, "NX"),
      );
      return claimed === "OK";
    },
  };
}
