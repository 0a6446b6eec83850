import type { CachedValue } from "./memory-cache";
import type { FleetRedis } from "@/server/fleet/redis-connection";

/**
 * Last-known-good answers shared by the fleet, and the short lock that lets one instance query
 * QuestDB for an input while the others wait for its answer. Every call answers as if Redis were
 * absent when it is (nothing found, lock granted), so each instance falls back to local behaviour.
 *
 * Keys: `<prefix>answer:<key>` is a hash {fetchedAt, value (JSON)}; `<prefix>lock:<key>` holds
 * the id of the instance querying QuestDB for that key.
 */

/** Newest wins, atomically: an answer fetched at or before the stored one is dropped. Returns 1 when stored. */
export const PUT_IF_NEWER_LUA = `
local stored = tonumber(redis.call('HGET', KEYS[1], 'fetchedAt'))
local incoming = tonumber(ARGV[1])
if stored and stored >= incoming then return 0 end
redis.call('HSET', KEYS[1], 'fetchedAt', ARGV[1], 'value', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** Deletes the lock only if this instance still holds it (it may have expired and been taken). */
export const RELEASE_OWN_LOCK_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export interface SharedAnswersOptions {
  /** How long an answer stays in Redis after its last write. */
  ttlMs: number;
  /** Prepended to every key, e.g. "dashboard:". */
  prefix: string;
}

export interface SharedAnswers {
  /** The fleet's newest answer for `key`; undefined when there is none or Redis is unavailable. */
  get<T>(key: string): Promise<CachedValue<T> | undefined>;
  /** Offers an answer; kept only if newer than the one stored. */
  put(key: string, value: unknown, fetchedAt: number): Promise<void>;
  /** True: this instance queries QuestDB for `key` now (also when Redis is unavailable). */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Gives up this instance's lock on `key`; another instance's lock is left alone. */
  release(key: string): Promise<void>;
}

export function createSharedAnswers(conn: FleetRedis, options: SharedAnswersOptions): SharedAnswers {
  const answerKey = (key: string) => `${options.prefix}answer:${key}`;
  const lockKey = (key: string) => `${options.prefix}lock:${key}`;

  return {
    async get<T>(key: string) {
      const fields = await conn.run((redis) => redis.hmget(answerKey(key), "fetchedAt", "value"));
      return fields ? parseAnswer<T>(fields) : undefined;
    },
    async put(key, value, fetchedAt) {
      const json = toJson(value);
      if (json === undefined || !Number.isFinite(fetchedAt)) return;
      await conn.run((redis) => redis.eval(PUT_IF_NEWER_LUA, 1, answerKey(key), fetchedAt, json, options.ttlMs));
    },
    async claim(key, ttlMs) {
      const reply = await conn.run((redis) => redis.set(lockKey(key), conn.instanceId, "PX", ttlMs, "NX"));
      return reply === undefined ? true : reply === "OK";
    },
    async release(key) {
      await conn.run((redis) => redis.eval(RELEASE_OWN_LOCK_LUA, 1, lockKey(key), conn.instanceId));
    },
  };
}

function parseAnswer<T>([fetchedAt, value]: (string | null)[]): CachedValue<T> | undefined {
  if (fetchedAt == null || value == null) return undefined;
  try {
    return { value: JSON.parse(value) as T, fetchedAt: Number(fetchedAt) };
  } catch {
    return undefined; // not written by this module: treated as absent
  }
}

/** Undefined for what JSON cannot hold (undefined, BigInt, cycles): such an answer is simply not shared. */
function toJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}
