import { z } from "zod";
import type { FleetRedis } from "@/server/fleet/redis-connection";

/**
 * Last-known-good answers shared by the fleet, and the claim that lets one instance query QuestDB
 * for an input while the others wait for its answer. Every call answers as if Redis were absent
 * when it is (nothing found, claim "unavailable"), so each instance falls back to local behaviour.
 *
 * Redis is the one authority for the fleet: it orders answers (a version per key, taken with the
 * claim and checked on publish, so a slower, earlier claimant can never overwrite a later one) and
 * ages them (the publish time is Redis's own clock, and a reader gets the age, never another
 * host's timestamp). What is read back is validated: an entry in another format is skipped and
 * logged once per key, never thrown.
 *
 * Keys: `<prefix>answer:<key>` is a hash {version, publishedAt (Redis ms), value (JSON), fetchedAt
 * (the publisher's clock: shown as is only where it agrees with the age)};
 * `<prefix>version:<key>` the last version handed out; `<prefix>lock:<key>` the claim,
 * `<instance id>:<version>` (a fencing token).
 */

/**
 * Hands out the claim with the next version — above every version seen (counter, stored answer,
 * the caller's floor) — or 0 when another holds it.
 */
export const CLAIM_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local counter = tonumber(redis.call('GET', KEYS[2])) or 0
local stored = tonumber(redis.call('HGET', KEYS[3], 'version')) or 0
local v = math.max(counter, stored, tonumber(ARGV[3]) or 0) + 1
redis.call('SET', KEYS[2], string.format('%d', v), 'PX', ARGV[4])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. string.format('%d', v), 'PX', ARGV[2])
return v
`;

/** The highest version wins, atomically; stamped with Redis's clock. Returns 1 when stored. */
export const PUT_IF_NEWER_LUA = `
local stored = tonumber(redis.call('HGET', KEYS[1], 'version'))
if stored and stored >= tonumber(ARGV[1]) then return 0 end
local t = redis.call('TIME')
local publishedAt = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'publishedAt', publishedAt, 'value', ARGV[2], 'fetchedAt', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** The answer's fields with Redis's time, so its age is measured on one clock. */
export const GET_WITH_TIME_LUA = `
return {redis.call('TIME'), redis.call('HMGET', KEYS[1], 'version', 'publishedAt', 'value', 'fetchedAt')}
`;

/** Extends the claim only if this claimant still holds it. */
export const RENEW_OWN_CLAIM_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** Deletes the claim only if this claimant still holds it (it may have expired and been taken). */
export const RELEASE_OWN_CLAIM_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export interface SharedAnswersOptions {
  /** How long an answer stays in Redis after its last write. */
  ttlMs: number;
  /** Prepended to every key, e.g. "dashboard:". */
  prefix: string;
  /** Where a skipped entry is reported (once per key). */
  log?: (event: string, fields: Record<string, unknown>) => void;
}

/** The fleet's answer: its version, and its age by Redis's clock (never a timestamp of another host). */
export interface SharedAnswer<T> {
  value: T;
  version: number;
  ageMs: number;
  /** When the publisher fetched it, on the publisher's clock: a hint for display, never for age or order. */
  fetchedAt: number;
}

/** Granted with the version this claimant's answer will carry; held by another instance; or no Redis. */
export type Claim = { state: "granted"; version: number } | { state: "held" } | { state: "unavailable" };

export interface SharedAnswers {
  /** The fleet's newest answer for `key`; undefined when there is none, it is unreadable, or Redis is unavailable. */
  get<T>(key: string): Promise<SharedAnswer<T> | undefined>;
  /** Offers an answer; kept only if its version is higher than the stored one's. True when stored. */
  put(key: string, value: unknown, version: number, fetchedAt: number): Promise<boolean>;
  /** Claims `key` for `ttlMs`, with a version above `floor` (the highest this instance has seen). */
  claim(key: string, ttlMs: number, floor: number): Promise<Claim>;
  /** Extends this claimant's claim (`version`) by `ttlMs`; false once it has lost it. */
  renew(key: string, version: number, ttlMs: number): Promise<boolean>;
  /** Gives up this claimant's claim; another's is left alone. */
  release(key: string, version: number): Promise<void>;
}

const nullableField = z.string().nullable();
const getReply = z.tuple([
  z.tuple([z.string(), z.string()]),
  z.tuple([nullableField, nullableField, nullableField, nullableField]),
]);
const storedEntry = z.object({
  version: z.coerce.number().int().positive(),
  publishedAt: z.coerce.number().int().nonnegative(),
  fetchedAt: z.coerce.number().int().nonnegative(),
  value: z.string().transform((json, ctx) => {
    try {
      return JSON.parse(json) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "value is not JSON" });
      return z.NEVER;
    }
  }),
});
const countReply = z.number().int().nonnegative();

/** Bounds the set of keys already reported as unreadable. */
const MAX_REPORTED_KEYS = 1_000;

export function createSharedAnswers(conn: FleetRedis, options: SharedAnswersOptions): SharedAnswers {
  const answerKey = (key: string) => `${options.prefix}answer:${key}`;
  const versionKey = (key: string) => `${options.prefix}version:${key}`;
  const lockKey = (key: string) => `${options.prefix}lock:${key}`;
  const token = (version: number) => `${conn.instanceId}:${version}`;
  const reported = reportOncePerKey(options.log);

  return {
    async get<T>(key: string) {
      const reply = await conn.run((redis) => redis.eval(GET_WITH_TIME_LUA, 1, answerKey(key)));
      if (reply === undefined) return undefined;
      const answer = parseAnswer<T>(reply);
      if (answer === "invalid") reported.invalid(key);
      else reported.valid(key);
      return answer === "invalid" ? undefined : answer;
    },
    async put(key, value, version, fetchedAt) {
      const json = toJson(value);
      if (json === undefined || !Number.isSafeInteger(version) || version < 1 || !Number.isFinite(fetchedAt))
        return false;
      const stamp = Math.round(fetchedAt);
      const reply = await conn.run((redis) =>
        redis.eval(PUT_IF_NEWER_LUA, 1, answerKey(key), version, json, options.ttlMs, stamp),
      );
      return reply === 1;
    },
    async claim(key, ttlMs, floor) {
      const keys = [lockKey(key), versionKey(key), answerKey(key)];
      const reply = await conn.run((redis) =>
        redis.eval(CLAIM_LUA, 3, ...keys, conn.instanceId, Math.ceil(ttlMs), Math.max(0, floor), options.ttlMs),
      );
      const version = countReply.safeParse(reply);
      if (!version.success) return { state: "unavailable" };
      return version.data === 0 ? { state: "held" } : { state: "granted", version: version.data };
    },
    async renew(key, version, ttlMs) {
      const reply = await conn.run((redis) =>
        redis.eval(RENEW_OWN_CLAIM_LUA, 1, lockKey(key), token(version), Math.ceil(ttlMs)),
      );
      return reply === 1;
    },
    async release(key, version) {
      await conn.run((redis) => redis.eval(RELEASE_OWN_CLAIM_LUA, 1, lockKey(key), token(version)));
    },
  };
}

/** Absent (nothing stored), the answer with its age, or "invalid" (another format, a bad field). */
function parseAnswer<T>(reply: unknown): SharedAnswer<T> | undefined | "invalid" {
  const parsed = getReply.safeParse(reply);
  if (!parsed.success) return "invalid";
  const [[seconds, micros], fields] = parsed.data;
  if (fields.every((field) => field === null)) return undefined;
  const [version, publishedAt, value, fetchedAt] = fields;
  const entry = storedEntry.safeParse({ version, publishedAt, value, fetchedAt });
  if (!entry.success) return "invalid";
  const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  const ageMs = Math.max(0, redisNow - entry.data.publishedAt);
  return { value: entry.data.value as T, version: entry.data.version, ageMs, fetchedAt: entry.data.fetchedAt };
}

/** A key's unreadable entry is reported once, not at every read; reported again after it was readable. */
function reportOncePerKey(log: SharedAnswersOptions["log"]) {
  const reported = new Set<string>();
  return {
    invalid(key: string) {
      if (reported.has(key)) return;
      if (reported.size >= MAX_REPORTED_KEYS) reported.clear();
      reported.add(key);
      log?.("fleet.answer_invalid", { key, action: "skipped" });
    },
    valid(key: string) {
      reported.delete(key);
    },
  };
}

/** Undefined for what JSON cannot hold (undefined, BigInt, cycles): such an answer is simply not shared. */
function toJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}
