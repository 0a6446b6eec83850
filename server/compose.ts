import { randomBytes } from "node:crypto";
import os from "node:os";
import type { BreakerState, Resilient } from "@/contract/answer";
import { linkBreaker, type BreakerLink } from "@/server/fleet/breaker-link";
import { createFleet, type Fleet } from "@/server/fleet/fleet";
import { createLastKnownGood, type LastKnownGood } from "@/server/last-known-good/last-known-good";
import { cacheKey, type LastKnownGoodCache } from "@/server/last-known-good/memory-cache";
import { createChangeDetector } from "@/server/live/change-detector";
import { createLiveTopics, type LiveTopics } from "@/server/live/live-topics";
import type { LiveStream } from "@/server/live/live-stream";
import { HealthTimeline, type TimelineSnapshot } from "@/server/observability/health-timeline";
import { logger as processLogger, logEvent, type Logger } from "@/server/observability/logger";
import { processMetrics, type Metrics } from "@/server/observability/metrics";
import { questdbEventRecorder } from "@/server/observability/questdb-events";
import { earlyBreakerRelease } from "@/server/questdb/early-release";
import type { QuestdbEvent } from "@/server/questdb/events";
import { createQuestdbPolicy, type QuestdbPolicy } from "@/server/questdb/policy";
import { QuestdbPool, endpointOf, type PoolStats, type QuestdbPoolOptions } from "@/server/questdb/pool";
import { notePoolHealth } from "@/server/questdb/pool-health";
import { tableVersionsQuery } from "@/server/questdb/queries";
import { createResilientQuery, type QuerySpec, type ResilientQuery } from "@/server/questdb/resilient-query";
import type { Env } from "./env";
import { createEventHub, type EventHub } from "./event-hub";

/**
 * The one composition root: it builds every part — pool, policy, last-known-good, resilient query,
 * fleet, live topics, observability — and wires them by a typed event hub. The parts only publish
 * what happened; the subscribers wired here react: the pool's health, logs and metrics, the health
 * timeline, the fleet's breaker link, the early breaker release. Routers receive the narrow
 * `QuestdbService` through the tRPC context (server/trpc.ts): run a query, read health, close.
 */

export interface ServiceHealth {
  status: "ok" | "degraded";
  questdb: {
    breaker: BreakerState;
    pool: PoolStats;
    lastSuccessAt: string | null;
    lastError: string | null;
    /** When lastError happened (ISO 8601); null with it. */
    lastErrorAt: string | null;
  };
  /** Fleet mode only (REDIS_URL set): whether Redis answers; without it each instance works alone. */
  redis?: "ok" | "unavailable";
}

export interface QuestdbService {
  readonly endpoint: string;
  readonly run: ResilientQuery;
  /**
   * The query's answers as they change, for a subscription: one loop per query and input for all
   * subscribers (server/live/live-topics.ts), querying when a table it reads changed. `holders`
   * (session, client address) are each counted against LIVE_MAX_STREAMS_PER_CLIENT; over it, or
   * over LIVE_MAX_TOPICS, it throws LiveLimitError.
   */
  live<T>(
    spec: QuerySpec<T>,
    lastEventId: string | null | undefined,
    signal: AbortSignal,
    holders?: readonly string[],
  ): LiveStream<Resilient<T>>;
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

/** The QuestDB layer itself: pool → policy → resilient query over last-known-good, all publishing to `hub`. */
interface QuestdbLayer {
  pool: QuestdbPool;
  policy: QuestdbPolicy;
  answers: LastKnownGood;
  run: ResilientQuery;
}

export function composeQuestdb(config: Env, deps: ServiceDeps = {}): QuestdbParts {
  const log = deps.log ?? processLogger;
  const metrics = deps.metrics ?? processMetrics();
  const endpoint = endpointOf(config.QUESTDB_URL);
  const hub = createEventHub<QuestdbEvent>();
  const fleet =
    deps.fleet !== undefined
      ? deps.fleet
      : createFleet({ url: config.REDIS_URL, instanceId: instanceId(), log: fleetLog(log) });
  const { pool, policy, answers, run } = buildQuestdbLayer(config, deps, hub, fleet, log);
  metrics.setBreaker(endpoint, "closed");
  metrics.watchPool(endpoint, () => pool.stats());

  const timeline = new HealthTimeline(deps.now);
  const link = fleet
    ? linkBreaker(fleet.breaker, policy, {
        recoveryMs: config.QUESTDB_BREAKER_RECOVERY_MS,
        // A peer's "open" is checked through this instance's own link first (a busy check: a SELECT 1).
        checkOwnLink: async () =>
          (await pool.checkHealth()) ??
          pool.query("SELECT 1").then(
            () => true,
            () => false,
          ),
      })
    : null;
  hub.subscribe(notePoolHealth(pool));
  hub.subscribe(questdbEventRecorder({ endpoint, log, metrics }));
  hub.subscribe((event) => timeline.record(event));
  if (link) hub.subscribe((event) => link.onEvent(event));
  if (deps.earlyBreakerRelease ?? true) {
    const probe = () => pool.query("SELECT 1", []);
    hub.subscribe(earlyBreakerRelease({ policy, probe, claimProbe: link ? () => link.claimProbe() : undefined }));
  }
  logPoolCreated(log, endpoint, config);

  const live = buildLive(config, { policy, pool, hub, fleet, log });
  metrics.watchLive(() => live.stats());
  if (fleet) metrics.watchRedis(() => fleet.status());
  // Learn at once whether QuestDB answers, rather than one interval later.
  void pool.checkHealth();

  return {
    endpoint,
    run,
    pool,
    policy,
    cache: answers.cache,
    health: () => healthOf(policy, pool, fleet),
    timeline: () => timeline.snapshot(),
    live: (spec, lastEventId, signal, holders) =>
      live.subscribe({
        topic: cacheKey(spec.operation, spec.input),
        // A live query runs because its tables changed: an answer from before the change is no answer.
        fetch: () => run(spec, { freshForMs: 0 }),
        tables: spec.query.tables,
        lastEventId,
        signal,
        holders,
      }),
    close: () => closeAll(live, link, fleet, pool, answers),
  };
}

/** The operation of the change detector's query (its own series in questdb_queries_started_total). */
export const CHANGES_OPERATION = "live.changes";

/**
 * Live topics and the change detector that drives them: its one query under the same policy as
 * every other (breaker, retries: its failures are QuestDB's), counted as its own operation.
 */
function buildLive(
  config: Env,
  parts: { policy: QuestdbPolicy; pool: QuestdbPool; hub: EventHub<QuestdbEvent>; fleet: Fleet | null; log: Logger },
): LiveTopics {
  const { policy, pool, hub } = parts;
  const detector = createChangeDetector({
    intervalMs: config.LIVE_CHECK_INTERVAL_MS,
    check: async (tables) => {
      const { sql, params, map } = tableVersionsQuery(tables);
      const rows = await policy.execute(CHANGES_OPERATION, () => {
        hub.publish({ type: "query_started", operation: CHANGES_OPERATION });
        return pool.query(sql, params);
      });
      return map(rows);
    },
  });
  const live = createLiveTopics({
    intervalMs: config.LIVE_INTERVAL_MS,
    minIntervalMs: config.LIVE_MIN_INTERVAL_MS,
    detector,
    relay: parts.fleet?.live ?? null,
    log: (level, event, fields) => logEvent(parts.log, level, event, fields),
    maxTopics: config.LIVE_MAX_TOPICS,
    maxStreamsPerHolder: config.LIVE_MAX_STREAMS_PER_CLIENT,
  });
  return {
    ...live,
    close() {
      live.close();
      detector.stop();
    },
  };
}

function buildQuestdbLayer(
  config: Env,
  deps: ServiceDeps,
  hub: EventHub<QuestdbEvent>,
  fleet: Fleet | null,
  log: Logger,
): QuestdbLayer {
  const emit = hub.publish;
  const freshForMs = deps.freshForMs ?? FRESH_FOR_MS;
  const pool = new QuestdbPool({
    connectionString: config.QUESTDB_URL,
    max: config.QUESTDB_POOL_MAX,
    attemptTimeoutMs: config.QUESTDB_QUERY_TIMEOUT_MS,
    healthIntervalMs: config.QUESTDB_HEALTH_INTERVAL_MS,
    emit,
    createPool: deps.createPool,
  });
  const policy = createQuestdbPolicy({
    retryDelaysMs: config.QUESTDB_RETRY_DELAYS_MS,
    breakerThreshold: config.QUESTDB_BREAKER_THRESHOLD,
    breakerRecoveryMs: config.QUESTDB_BREAKER_RECOVERY_MS,
    endpoint: pool.endpoint,
    emit,
    now: deps.now,
  });
  const answers = createLastKnownGood({
    maxBytes: config.QUESTDB_CACHE_MAX_MB * 1024 * 1024,
    dataDir: deps.dataDir === undefined ? config.DASHBOARD_DATA_DIR : deps.dataDir,
    shared: fleet?.answers,
    freshForMs,
    now: deps.now,
    firstVersion: Date.now() * 1000,
    log: (event, fields) => logEvent(log, event === "store.write_recovered" ? "info" : "warn", event, fields),
  });
  const run = createResilientQuery({
    target: pool,
    policy,
    answers,
    deadlineMs: config.QUESTDB_DEADLINE_MS,
    staleAfterMs: config.QUESTDB_STALE_AFTER_MS,
    softDeadlineMs: config.QUESTDB_SOFT_DEADLINE_MS,
    freshForMs,
    emit,
    now: deps.now,
  });
  return { pool, policy, answers, run };
}

/** Health from memory: ok only with the breaker closed and QuestDB answering. */
function healthOf(policy: QuestdbPolicy, pool: QuestdbPool, fleet: Fleet | null): ServiceHealth {
  const breaker = policy.breakerState();
  const state = pool.health();
  return {
    status: breaker === "closed" && state.reachable !== false ? "ok" : "degraded",
    questdb: {
      breaker,
      pool: pool.stats(),
      lastSuccessAt: state.lastSuccessAt?.toISOString() ?? null,
      lastError: state.lastError || null,
      lastErrorAt: (state.lastError && state.lastErrorAt?.toISOString()) || null,
    },
    ...(fleet ? { redis: fleet.status() } : {}),
  };
}

async function closeAll(
  live: { close(): void },
  link: BreakerLink | null,
  fleet: Fleet | null,
  pool: QuestdbPool,
  answers: LastKnownGood,
): Promise<void> {
  live.close();
  link?.stop();
  fleet?.close();
  await Promise.all([pool.close(), answers.close()]);
}

function logPoolCreated(log: Logger, endpoint: string, config: Env): void {
  logEvent(log, "info", "questdb.pool_created", {
    endpoint,
    pool_max: config.QUESTDB_POOL_MAX,
    retry_delays_ms: config.QUESTDB_RETRY_DELAYS_MS,
    breaker_threshold: config.QUESTDB_BREAKER_THRESHOLD,
    breaker_recovery_ms: config.QUESTDB_BREAKER_RECOVERY_MS,
    attempt_timeout_ms: config.QUESTDB_QUERY_TIMEOUT_MS,
    deadline_ms: config.QUESTDB_DEADLINE_MS,
  });
}

/** This process among the fleet's instances. */
function instanceId(): string {
  return `${os.hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

function fleetLog(log: Logger) {
  return (event: string, fields: Record<string, unknown>) =>
    logEvent(log, /(_failed|unavailable|_invalid)$/.test(event) ? "warn" : "info", event, fields);
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
