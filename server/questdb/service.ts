import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { linkBreaker, type BreakerLink } from "../fleet/breaker-link";
import { createFleetFetch } from "../fleet/coordinated-fetch";
import { createFleet, type Fleet } from "../fleet/fleet";
import type { Env } from "../env";
import { logger as processLogger, logEvent, type Logger } from "../observability/logger";
import { processMetrics, type Metrics } from "../observability/metrics";
import { HealthTimeline, type TimelineSnapshot } from "../observability/health-timeline";
import { questdbEventRecorder } from "../observability/questdb-events";
import { SnapshotStore } from "../store/snapshot-store";
import { createLiveTopics, type LiveEvent } from "../live/live-topics";
import { LastKnownGoodCache, cacheKey } from "./cache";
import type { QuestdbEvent } from "./events";
import { createQuestdbPolicy, type QuestdbPolicy } from "./policy";
import type { BreakerState } from "@/contract/answer";
import { QuestdbPool, endpointOf, type PoolStats, type QuestdbPoolOptions } from "./pool";
import { createResilientQuery, type QuerySpec, type ResilientQuery } from "./resilient-query";
import type { Resilient } from "@/contract/answer";

/**
 * The one composition root of the QuestDB layer: pool → policy → resilient query for one endpoint,
 * the health check that lets the breaker probe early once QuestDB answers again, and the events of
 * all three mapped to logs and metrics. Routers receive the narrow `QuestdbService` through the
 * tRPC context: run a query, read health, close.
 */

export interface ServiceHealth {
  status: "ok" | "degraded";
  questdb: {
    breaker: BreakerState;
    pool: PoolStats;
    lastSuccessAt: string | null;
    lastError: string | null;
  };
  /** Fleet mode only (REDIS_URL set): whether Redis answers; without it each instance works alone. */
  redis?: "ok" | "unavailable";
}

export interface QuestdbService {
  readonly endpoint: string;
  readonly run: ResilientQuery;
  /**
   * The query's answers as they change, for a subscription: one loop per query and input for all
   * subscribers (server/live/live-topics.ts), every LIVE_INTERVAL_MS.
   */
  live<T>(
    spec: QuerySpec<T>,
    lastEventId: string | null | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<LiveEvent<Resilient<T>>>;
  /** Answers from memory only: never waits on QuestDB. */
  health(): ServiceHealth;
  /** The last 15 minutes: breaker states, query latency, outages (from memory). */
  timeline(): TimelineSnapshot;
  close(): Promise<void>;
}

/** The service with its parts in view, for benchmarks that time each layer on its own. */
export interface QuestdbParts extends QuestdbService {
  readonly pool: QuestdbPool;
  readonly policy: QuestdbPolicy;
  readonly cache: LastKnownGoodCache;
}

export const FRESH_FOR_MS = 1000;

export interface ServiceDeps {
  log?: Logger;
  metrics?: Metrics;
  now?: () => number;
  /**
   * Let a successful health check end the breaker's wait and probe at once (default). Off, the
   * breaker waits out its whole recovery time: the seed design the benchmark compares against.
   */
  earlyBreakerRelease?: boolean;
  /** How long a success is reused as is (default FRESH_FOR_MS); 0 sends every call to QuestDB. */
  freshForMs?: number;
  /** Unit tests hand in a stand-in for pg's Pool. */
  createPool?: QuestdbPoolOptions["createPool"];
  /** Where the last-known-good snapshot lives (default DASHBOARD_DATA_DIR); null keeps none on disk. */
  dataDir?: string | null;
  /** The fleet to join (default: from REDIS_URL); null works alone. */
  fleet?: Fleet | null;
}

/** This process among the fleet's instances. */
function instanceId(): string {
  return `${os.hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

function fleetLog(log: Logger) {
  return (event: string, fields: Record<string, unknown>) =>
    logEvent(log, event.endsWith("_failed") || event.endsWith("unavailable") ? "warn" : "info", event, fields);
}

export function composeQuestdb(config: Env, deps: ServiceDeps = {}): QuestdbParts {
  const log = deps.log ?? processLogger;
  const metrics = deps.metrics ?? processMetrics();
  const endpoint = endpointOf(config.QUESTDB_URL);
  const record = questdbEventRecorder({ endpoint, log, metrics });
  const timeline = new HealthTimeline(deps.now);
  const earlyRelease = deps.earlyBreakerRelease ?? true;

  const fleet =
    deps.fleet !== undefined
      ? deps.fleet
      : createFleet({ url: config.REDIS_URL, instanceId: instanceId(), log: fleetLog(log) });
  let link: BreakerLink | null = null;

  const emit = (event: QuestdbEvent) => {
    record(event);
    timeline.record(event);
    link?.onEvent(event);
    const answered = event.type === "health_checked" || (event.type === "health_check_failed" && event.answered);
    // QuestDB answers again: probe now instead of after the full recovery time, and without
    // waiting for a caller, so the breaker closes even when nobody is polling (in a fleet, one
    // instance probes for all).
    if (answered && earlyRelease && policy.releaseBreaker()) {
      void (async () => {
        if (link && !(await link.claimProbe())) return;
        await policy.execute("health.probe", () => pool.query("SELECT 1", [])).catch(() => undefined);
      })();
    }
  };

  const policy = createQuestdbPolicy({
    retryDelaysMs: config.QUESTDB_RETRY_DELAYS_MS,
    breakerThreshold: config.QUESTDB_BREAKER_THRESHOLD,
    breakerRecoveryMs: config.QUESTDB_BREAKER_RECOVERY_MS,
    emit,
    now: deps.now,
  });
  metrics.setBreaker(endpoint, "closed");
  if (fleet)
    link = linkBreaker(fleet.breaker, policy, { recoveryMs: config.QUESTDB_BREAKER_RECOVERY_MS, now: deps.now });

  const pool = new QuestdbPool({
    connectionString: config.QUESTDB_URL,
    max: config.QUESTDB_POOL_MAX,
    attemptTimeoutMs: config.QUESTDB_QUERY_TIMEOUT_MS,
    healthIntervalMs: config.QUESTDB_HEALTH_INTERVAL_MS,
    emit,
    createPool: deps.createPool,
  });
  metrics.watchPool(endpoint, () => pool.stats());

  const cache = new LastKnownGoodCache({ maxBytes: config.QUESTDB_CACHE_MAX_MB * 1024 * 1024 });
  const dataDir = deps.dataDir === undefined ? config.DASHBOARD_DATA_DIR : deps.dataDir;
  const store = dataDir === null ? null : openSnapshot(dataDir, config, log);
  if (store) restoreSnapshot(store, cache, deps.now ?? Date.now);
  const run = createResilientQuery({
    target: pool,
    policy,
    cache,
    deadlineMs: config.QUESTDB_DEADLINE_MS,
    staleAfterMs: config.QUESTDB_STALE_AFTER_MS,
    softDeadlineMs: config.QUESTDB_SOFT_DEADLINE_MS,
    freshForMs: deps.freshForMs ?? FRESH_FOR_MS,
    emit,
    now: deps.now,
    fleet: fleet
      ? createFleetFetch(fleet.answers, { freshForMs: deps.freshForMs ?? FRESH_FOR_MS, now: deps.now })
      : undefined,
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
  // Each tick of a live loop asks QuestDB anew (an answer from the previous tick is not reused).
  const liveFreshForMs = Math.floor(config.LIVE_INTERVAL_MS / 2);
  const live = createLiveTopics({
    intervalMs: config.LIVE_INTERVAL_MS,
    relay: fleet?.live ?? null,
    log: (level, event, fields) => logEvent(log, level, event, fields),
  });

  // Learn at once whether QuestDB answers, rather than one interval later.
  void pool.checkHealth();

  return {
    endpoint,
    run,
    pool,
    policy,
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
        ...(fleet ? { redis: fleet.status() } : {}),
      };
    },
    timeline: () => timeline.snapshot(),
    live: (spec, lastEventId, signal) =>
      live.subscribe(
        cacheKey(spec.operation, spec.input),
        () => run(spec, { freshForMs: liveFreshForMs }),
        lastEventId,
        signal,
      ),
    close: async () => {
      live.close();
      link?.stop();
      fleet?.close();
      await Promise.all([pool.close(), store?.close()]);
    },
  };
}

function openSnapshot(dir: string, config: Env, log: Logger): SnapshotStore {
  return new SnapshotStore({
    dir: path.resolve(dir),
    maxBytes: config.QUESTDB_CACHE_MAX_MB * 1024 * 1024,
    log: (event, fields) => logEvent(log, event === "store.write_recovered" ? "info" : "warn", event, fields),
  });
}

/**
 * The last-known-good answers of the previous run, so a restart during an outage still answers
 * `degraded` with the original `cachedAt`; from then on every answer the cache accepts is written
 * behind to disk. An entry stamped in the future (the clock went back) is not trusted.
 */
function restoreSnapshot(store: SnapshotStore, cache: LastKnownGoodCache, now: () => number): void {
  for (const entry of store.load()) if (entry.fetchedAt <= now()) cache.set(entry.key, entry.value, entry.fetchedAt);
  cache.onSet = (key, value, fetchedAt) => store.record(key, value, fetchedAt);
}

/** What routers see: run, health, close — the parts stay inside. */
export function createQuestdbService(config: Env, deps: ServiceDeps = {}): QuestdbService {
  const { endpoint, run, health, timeline, live, close } = composeQuestdb(config, deps);
  return { endpoint, run, health, timeline, live, close };
}

const globalForService = globalThis as unknown as { questdbService?: QuestdbService };

/** The process's one service for the configured endpoint (kept across Next.js dev reloads). */
export function questdbService(config: () => Env): QuestdbService {
  globalForService.questdbService ??= createQuestdbService(config());
  return globalForService.questdbService;
}
