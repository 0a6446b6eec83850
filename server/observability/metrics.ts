import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * Prometheus metrics (prom-client). One registry per process; tests build their own with
 * `createMetrics(new Registry())` so counts never leak between them. Grouped by what they watch
 * (breakers, queries, answers, pool, live topics, fleet, sign-in); deploy/prometheus/ alerts on
 * them and deploy/grafana/ draws them, so a name changed here must change there too.
 */

const BREAKER_VALUE = { closed: 0, "half-open": 1, open: 2 } as const;

type BreakerValueState = keyof typeof BREAKER_VALUE;

/** Every outcome of a sign-in, counted from 0 so an alert can compare failures with successes. */
export const SIGN_IN_OUTCOMES = [
  "signed_in",
  "provider_unreachable",
  "provider_misconfigured",
  "provider_refused",
  "sign_in_expired",
  "sign_in_failed",
] as const;

export type SignInOutcome = (typeof SIGN_IN_OUTCOMES)[number];

/**
 * prom-client's default gauges named `…_total` (only counters may end so, says Prometheus's naming
 * rule and `promtool check metrics`). Each is the sum of its labelled twin: `nodejs_active_handles{type}`.
 */
export const DROPPED_DEFAULT_METRICS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
] as const;

function breakerMetrics(registry: Registry) {
  const breakerState = new Gauge({
    name: "questdb_breaker_state",
    help: "Circuit breaker state per QuestDB endpoint: 0 closed, 1 half-open, 2 open",
    labelNames: ["endpoint"],
    registers: [registry],
  });
  const operationBreakerState = new Gauge({
    name: "questdb_operation_breaker_state",
    help: "Each operation's own (slow-call) breaker: 0 closed, 1 half-open, 2 open",
    labelNames: ["operation"],
    registers: [registry],
  });
  const breakerTransitions = new Counter({
    name: "questdb_breaker_transitions_total",
    help: "Circuit breaker transitions, by the state entered",
    labelNames: ["endpoint", "state"],
    registers: [registry],
  });
  return {
    breakerState,
    operationBreakerState,
    breakerTransitions,
    setBreaker(endpoint: string, state: BreakerValueState) {
      breakerState.set({ endpoint }, BREAKER_VALUE[state]);
    },
    setOperationBreaker(operation: string, state: BreakerValueState) {
      operationBreakerState.set({ operation }, BREAKER_VALUE[state]);
    },
  };
}

function queryMetrics(registry: Registry) {
  return {
    queryDuration: new Histogram({
      name: "questdb_query_duration_seconds",
      help: "Time of one resilient query (all attempts), by operation and outcome",
      labelNames: ["operation", "outcome"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10],
      registers: [registry],
    }),
    retries: new Counter({
      name: "questdb_retries_total",
      help: "Retries of connection failures",
      labelNames: ["endpoint"],
      registers: [registry],
    }),
    singleFlightJoins: new Counter({
      name: "dashboard_singleflight_joins_total",
      help: "Calls that joined an identical query already in flight instead of starting their own",
      labelNames: ["operation"],
      registers: [registry],
    }),
    dbQueries: new Counter({
      name: "questdb_queries_started_total",
      help: "Query attempts sent towards QuestDB (each retry counts)",
      labelNames: ["operation"],
      registers: [registry],
    }),
    healthCheckFailures: new Counter({
      name: "questdb_health_check_failures_total",
      help: "Pool health checks (SELECT 1) that failed",
      labelNames: ["endpoint"],
      registers: [registry],
    }),
  };
}

function answerMetrics(registry: Registry) {
  return {
    answers: new Counter({
      name: "dashboard_answers_total",
      help: "Answers of data procedures, by status (ok / degraded / error)",
      labelNames: ["operation", "status"],
      registers: [registry],
    }),
    answersByReason: new Counter({
      name: "dashboard_answers_by_reason_total",
      help: "Degraded and error answers, by status and reason (database_unavailable, query_slow, busy, query_failed)",
      labelNames: ["operation", "status", "reason"],
      registers: [registry],
    }),
    degradedResponses: new Counter({
      name: "dashboard_degraded_responses_total",
      help: "Answers served from the last-known-good cache because QuestDB was unavailable",
      labelNames: ["operation"],
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: "dashboard_cache_hits_total",
      help: "Answers served from the cache: fresh (reused success under a second old) or stale (degraded)",
      labelNames: ["operation", "kind"],
      registers: [registry],
    }),
    oldestServedAge: new Gauge({
      name: "dashboard_cache_oldest_served_age_seconds",
      help: "Age of the oldest cached value served in a degraded answer since QuestDB last answered",
      registers: [registry],
    }),
  };
}

type PoolStats = { total: number; idle: number; waiting: number };

function poolMetrics(registry: Registry) {
  const sources = new Map<string, () => PoolStats>();
  const pool = new Gauge({
    name: "questdb_pool_connections",
    help: "Connections of the QuestDB pool, by state (total / idle / waiting callers)",
    labelNames: ["endpoint", "state"],
    registers: [registry],
    // Read at scrape time, so the numbers are never stale.
    collect() {
      for (const [endpoint, stats] of sources) {
        const { total, idle, waiting } = stats();
        this.set({ endpoint, state: "total" }, total);
        this.set({ endpoint, state: "idle" }, idle);
        this.set({ endpoint, state: "waiting" }, waiting);
      }
    },
  });
  return {
    pool,
    watchPool(endpoint: string, stats: () => PoolStats) {
      sources.set(endpoint, stats);
    },
  };
}

type LiveStats = { topics: number; subscribers: number; loops: number };

/** Live topics and their streams, read at scrape time from the live topics' own count. */
function liveMetrics(registry: Registry) {
  let source: (() => LiveStats) | undefined;
  const gauge = (name: string, help: string, pick: (stats: LiveStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        if (source) this.set(pick(source()));
      },
    });
  return {
    liveTopics: gauge(
      "dashboard_live_topics",
      "Live topics (a procedure and its input) with subscribers",
      (s) => s.topics,
    ),
    liveStreams: gauge(
      "dashboard_live_streams",
      "Live streams (SSE subscriptions) open on this instance",
      (s) => s.subscribers,
    ),
    liveLoops: gauge(
      "dashboard_live_loops",
      "Live topics this instance queries itself (the rest are relayed)",
      (s) => s.loops,
    ),
    watchLive(stats: () => LiveStats) {
      source = stats;
    },
  };
}

/**
 * Redis in fleet mode, as a state set (1 for the current state, 0 for the other). Without
 * REDIS_URL nothing watches it and the series does not exist, so no alert fires for a lone instance.
 */
function fleetMetrics(registry: Registry) {
  let source: (() => "ok" | "unavailable") | undefined;
  const redisState = new Gauge({
    name: "dashboard_redis_state",
    help: "Fleet mode's Redis as this instance sees it: 1 for the current state (ok / unavailable), 0 for the other",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      if (!source) return;
      const current = source();
      this.set({ state: "ok" }, current === "ok" ? 1 : 0);
      this.set({ state: "unavailable" }, current === "unavailable" ? 1 : 0);
    },
  });
  return {
    redisState,
    watchRedis(status: () => "ok" | "unavailable") {
      source = status;
    },
  };
}

function signInMetrics(registry: Registry) {
  const signIns = new Counter({
    name: "dashboard_signins_total",
    help: "Sign-ins with the OpenID provider, by outcome (signed_in or the failure's reason)",
    labelNames: ["outcome"],
    registers: [registry],
  });
  for (const outcome of SIGN_IN_OUTCOMES) signIns.inc({ outcome }, 0);
  return {
    signIns,
    countSignIn(outcome: SignInOutcome) {
      signIns.inc({ outcome });
    },
  };
}

export function createMetrics(registry: Registry) {
  return {
    registry,
    ...breakerMetrics(registry),
    ...queryMetrics(registry),
    ...answerMetrics(registry),
    ...poolMetrics(registry),
    ...liveMetrics(registry),
    ...fleetMetrics(registry),
    ...signInMetrics(registry),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Node's default process metrics, less the gauges whose names break Prometheus's rules. */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
}

const globalForMetrics = globalThis as unknown as { dashboardMetrics?: Metrics };

/** The process's metrics; Node's default process metrics are collected too. */
export function processMetrics(): Metrics {
  if (!globalForMetrics.dashboardMetrics) {
    const registry = new Registry();
    collectProcessMetrics(registry);
    globalForMetrics.dashboardMetrics = createMetrics(registry);
  }
  return globalForMetrics.dashboardMetrics;
}
