import { createFleetRedis, type FleetLog, type FleetRedisOptions, type FleetRedisStatus } from "./redis-connection";
import type { LiveRelay } from "@/server/live/live-topics";
import { createLiveRelay } from "./live-relay";
import { createSharedAnswers, type SharedAnswers } from "@/server/last-known-good/shared-answers";
import { createSharedBreaker, type SharedBreaker } from "./shared-breaker";

/**
 * Fleet mode: what several app instances behind a load balancer share through Redis when
 * `REDIS_URL` is set — last-known-good answers, the one-query-per-input lock, the QuestDB
 * endpoint breaker, and the live topics' loops. Without a URL there is no fleet, and each instance works on its own.
 */

export interface FleetOptions {
  /** REDIS_URL; unset or empty means no fleet. */
  url: string | undefined;
  instanceId: string;
  log?: FleetLog;
  /** Prepended to every Redis key and channel, so two dashboards can share one Redis. */
  prefix?: string;
  /** How long a shared answer outlives its last write: it must carry viewers through an outage. */
  answerTtlMs?: number;
  redis?: Omit<FleetRedisOptions, "url" | "instanceId" | "log">;
}

export interface Fleet {
  answers: SharedAnswers;
  breaker: SharedBreaker;
  /** Live topics: one loop per topic for the whole fleet. */
  live: LiveRelay;
  /** For /api/health's `redis` field. */
  status(): FleetRedisStatus;
  close(): void;
}

export const FLEET_DEFAULTS = {
  prefix: "dashboard:",
  answerTtlMs: 60 * 60_000,
} as const;

export function createFleet(options: FleetOptions): Fleet | null {
  const url = options.url?.trim();
  if (!url) return null;
  const prefix = options.prefix ?? FLEET_DEFAULTS.prefix;
  const conn = createFleetRedis({ ...options.redis, url, instanceId: options.instanceId, log: options.log });
  return {
    answers: createSharedAnswers(conn, {
      prefix,
      ttlMs: options.answerTtlMs ?? FLEET_DEFAULTS.answerTtlMs,
      log: options.log,
    }),
    breaker: createSharedBreaker(conn, { prefix, channel: `${prefix}breaker:announcements` }),
    live: createLiveRelay(conn, { prefix }),
    status: conn.status,
    close: conn.close,
  };
}
