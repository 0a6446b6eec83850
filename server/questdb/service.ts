import type { Env } from "../env";
import { logger as processLogger, logEvent, type Logger } from "../observability/logger";
import { processMetrics, type Metrics } from "../observability/metrics";
import { LastKnownGoodCache } from "./cache";
import { createQuestdbPolicy, type BreakerState, type QuestdbPolicy } from "./policy";
import { QuestdbPool, endpointOf, type PoolStats } from "./pool";
import { createResilientQuery, type ResilientQuery } from "./resilient-query";

/**
 * Wires one QuestDB endpoint: pool → policy → resilient query, plus the health check that lets
 * the breaker probe early once QuestDB answers again. Routers receive this through the tRPC context.
 */

export interface ServiceHealth {
  status: "ok" | "degraded";
  questdb: {
    breaker: BreakerState;
    pool: PoolStats;
    lastSuccessAt: string | null;
    lastError: string | null;
  };
}

export interface QuestdbService {
  readonly endpoint: string;
  readonly run: ResilientQuery;
  readonly policy: QuestdbPolicy;
  readonly pool: QuestdbPool;
  readonly cache: LastKnownGoodCache;
  /** Answers from memory only: never waits on QuestDB. */
  health(): ServiceHealth;
  close(): Promise<void>;
}

export const CACHE_MAX_ENTRIES = 1000;
export const FRESH_FOR_MS = 1000;

export interface ServiceDeps {
  log?: Logger;
  metrics?: Metrics;
  now?: () => number;
}

export function createQuestdbService(config: Env, deps: ServiceDeps = {}): QuestdbService {
  const log = deps.log ?? processLogger;
  const metrics = deps.metrics ?? processMetrics();
  const endpoint = endpointOf(config.QUESTDB_URL);

  const policy = createQuestdbPolicy(
    {
      retryDelaysMs: config.QUESTDB_RETRY_DELAYS_MS,
      breakerThreshold: config.QUESTDB_BREAKER_THRESHOLD,
      breakerRecoveryMs: config.QUESTDB_BREAKER_RECOVERY_MS,
      attemptTimeoutMs: config.QUESTDB_QUERY_TIMEOUT_MS,
      maxConcurrent: config.QUESTDB_POOL_MAX,
      log,
      now: deps.now,
    },
    {
      onRetry: () => metrics.retries.inc({ endpoint }),
      onBreakerChange: (state) => {
        metrics.setBreaker(endpoint, state);
        metrics.breakerTransitions.inc({ endpoint, state });
      },
    },
  );
  metrics.setBreaker(endpoint, "closed");

  const pool = new QuestdbPool({
    connectionString: config.QUESTDB_URL,
    max: config.QUESTDB_POOL_MAX,
    attemptTimeoutMs: config.QUESTDB_QUERY_TIMEOUT_MS,
    healthIntervalMs: config.QUESTDB_HEALTH_INTERVAL_MS,
    log,
    onHealthCheck: (ok) => {
      if (!ok) {
        metrics.healthCheckFailures.inc({ endpoint });
        return;
      }
      // QuestDB answers again: probe now instead of after the full recovery time, and without
      // waiting for a caller, so the breaker closes even when nobody is polling.
      if (policy.releaseBreaker()) {
        policy.execute((signal) => pool.query("SELECT 1", [], signal)).catch(() => undefined);
      }
    },
  });

  metrics.watchPool(endpoint, () => pool.stats());

  const cache = new LastKnownGoodCache(CACHE_MAX_ENTRIES);
  const run = createResilientQuery({
    target: pool,
    policy,
    cache,
    deadlineMs: config.QUESTDB_DEADLINE_MS,
    freshForMs: FRESH_FOR_MS,
    log,
    metrics,
    now: deps.now,
  });

  logEvent(log, "info", "questdb.pool_created", {
    endpoint,
    pool_max: config.QUESTDB_POOL_MAX,
    retry_delays_ms: config.QUESTDB_RETRY_DELAYS_MS,
    breaker_threshold: config.QUESTDB_BREAKER_THRESHOLD,
    breaker_recovery_ms: config.QUESTDB_BREAKER_RECOVERY_MS,
    attempt_timeout_ms: config.QUESTDB_QUERY_TIMEOUT_MS,
    deadline_ms: config.QUESTDB_DEADLINE_MS,
  });
  // Learn at once whether QuestDB answers, rather than one interval later.
  void pool.checkHealth();

  return {
    endpoint,
    run,
    policy,
    pool,
    cache,
    health() {
      const breaker = policy.breakerState();
      const state = pool.health();
      return {
        status: breaker === "closed" && state.reachable !== false ? "ok" : "degraded",
        questdb: {
          breaker,
          pool: pool.stats(),
          lastSuccessAt: state.lastSuccessAt?.toISOString() ?? null,
          lastError: state.lastError || null,
        },
      };
    },
    close: () => pool.close(),
  };
}

const globalForService = globalThis as unknown as { questdbService?: QuestdbService };

/** The process's one service for the configured endpoint (kept across Next.js dev reloads). */
export function questdbService(config: () => Env): QuestdbService {
  globalForService.questdbService ??= createQuestdbService(config());
  return globalForService.questdbService;
}
