import type { Claim, SharedAnswer, SharedAnswers } from "@/server/last-known-good/shared-answers";

/**
 * The fleet's Redis, in memory, for unit and property tests: the same semantics as the Lua
 * scripts of shared-answers.ts — versions handed out with the claim (above counter, stored answer
 * and the caller's floor), the highest version wins on publish, publish time and expiries on
 * Redis's own clock (`redisNow`), claims held by a fencing token. `down` makes every call answer
 * as the real client does without Redis.
 */

interface StoredAnswer {
  value: unknown;
  version: number;
  publishedAt: number;
  fetchedAt: number;
}

export interface InMemorySharedAnswers {
  /** One instance's view of it (claims carry the instance's id). */
  forInstance(instanceId: string): SharedAnswers;
  readonly answers: Map<string, StoredAnswer>;
  /** Redis unreachable: get → undefined, claim → unavailable, writes dropped. */
  down: boolean;
  /** Instances cut off from Redis (the others still reach it). */
  readonly cutOff: Set<string>;
  /** The claim on `key` lapses now (its holder stalled past its TTL). */
  lapse(key: string): void;
  /** Who holds the claim on `key` (`<instance>:<version>`), if anyone. */
  holder(key: string): string | undefined;
  /** Every publish that was stored, in order. */
  readonly published: Array<{ key: string; version: number; value: unknown }>;
}

export function inMemorySharedAnswers(redisNow: () => number): InMemorySharedAnswers {
  const answers = new Map<string, StoredAnswer>();
  const counters = new Map<string, number>();
  const locks = new Map<string, { token: string; expiresAt: number }>();
  const published: InMemorySharedAnswers["published"] = [];
  const heldLock = (key: string) => {
    const lock = locks.get(key);
    return lock && lock.expiresAt > redisNow() ? lock : undefined;
  };
  const world: InMemorySharedAnswers = {
    answers,
    published,
    down: false,
    cutOff: new Set<string>(),
    lapse: (key) => locks.delete(key),
    holder: (key) => heldLock(key)?.token,
    forInstance(instanceId) {
      const unreachable = () => world.down || world.cutOff.has(instanceId);
      const token = (version: number) => `${instanceId}:${version}`;
      return {
        async get<T>(key: string): Promise<SharedAnswer<T> | undefined> {
          const stored = unreachable() ? undefined : answers.get(key);
          if (!stored) return undefined;
          const ageMs = Math.max(0, redisNow() - stored.publishedAt);
          return {
            value: structuredClone(stored.value) as T,
            version: stored.version,
            ageMs,
            fetchedAt: stored.fetchedAt,
          };
        },
        async put(key, value, version, fetchedAt) {
          const stored = answers.get(key);
          if (unreachable() || (stored && stored.version >= version)) return false;
          answers.set(key, { value: structuredClone(value), version, publishedAt: redisNow(), fetchedAt });
          published.push({ key, version, value });
          return true;
        },
        async claim(key, ttlMs, floor): Promise<Claim> {
          if (unreachable()) return { state: "unavailable" };
          if (heldLock(key)) return { state: "held" };
          const version = Math.max(counters.get(key) ?? 0, answers.get(key)?.version ?? 0, floor) + 1;
          counters.set(key, version);
          locks.set(key, { token: token(version), expiresAt: redisNow() + ttlMs });
          return { state: "granted", version };
        },
        async renew(key, version, ttlMs) {
          const lock = heldLock(key);
          if (unreachable() || lock?.token !== token(version)) return false;
          lock.expiresAt = redisNow() + ttlMs;
          return true;
        },
        async release(key, version) {
          if (!unreachable() && heldLock(key)?.token === token(version)) locks.delete(key);
        },
      };
    },
  };
  return world;
}
