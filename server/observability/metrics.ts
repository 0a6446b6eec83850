import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * Prometheus metrics (prom-client). One registry per process; tests build their own with
 * `createMetrics(new Registry())` so counts never leak between them.
 */

const BREAKER_VALUE = { closed: 0, "half-open": 1, open: 2 } as const;

export function createMetrics(registry: Registry) {
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
  const queryDuration = new Histogram({
    name: "questdb_query_duration_seconds",
    help: "Time of one resilient query (all attempts), by operation and outcome",
    labelNames: ["operation", "outcome"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10],
    registers: [registry],
  });
  const retries = new Counter({
    name: "questdb_retries_total",
    help: "Retries of connection failures",
    labelNames: ["endpoint"],
    registers: [registry],
  });
  const answers = new Counter({
    name: "dashboard_answers_total",
    help: "Answers of data procedures, by status (ok / degraded / error)",
    labelNames: ["operation", "status"],
    registers: [registry],
  });
  const degradedResponses = new Counter({
    name: "dashboard_degraded_responses_total",
    help: "Answers served from the last-known-good cache because QuestDB was unavailable",
    labelNames: ["operation"],
    registers: [registry],
  });
  const cacheHits = new Counter({
    name: "dashboard_cache_hits_total",
    help: "Answers served from the cache: fresh (reused success under a second old) or stale (degraded)",
    labelNames: ["operation", "kind"],
    registers: [registry],
  });
  const oldestServedAge = new Gauge({
    name: "dashboard_cache_oldest_served_age_seconds",
    help: "Age of the oldest cached value served in a degraded answer since QuestDB last answered",
    registers: [registry],
  });
  const singleFlightJoins = new Counter({
    name: "dashboard_singleflight_joins_total",
    help: "Calls that joined an identical query already in flight instead of starting their own",
    labelNames: ["operation"],
    registers: [registry],
  });
  const dbQueries = new Counter({
    name: "questdb_queries_started_total",
    help: "Query attempts sent towards QuestDB (each retry counts)",
    labelNames: ["operation"],
    registers: [registry],
  });
  const poolSources = new Map<string, () => { total: number; idle: number; waiting: number }>();
  const pool = new Gauge({
    name: "questdb_pool_connections",
    help: "Connections of the QuestDB pool, by state (total / idle / waiting callers)",
    labelNames: ["endpoint", "state"],
    registers: [registry],
    // Read at scrape time, so the numbers are never stale.
    collect() {
      for (const [endpoint, stats] of poolSources) {
        const { total, idle, waiting } = stats();
        this.set({ endpoint, state: "total" }, total);
        this.set({ endpoint, state: "idle" }, idle);
        this.set({ endpoint, state: "waiting" }, waiting);
      }
    },
  });
  const healthCheckFailures = new Counter({
    name: "questdb_health_check_failures_total",
    help: "Pool health checks (SELECT 1) that failed",
    labelNames: ["endpoint"],
    registers: [registry],
  });

  return {
    registry,
    breakerState,
    operationBreakerState,
    breakerTransitions,
    queryDuration,
    retries,
    answers,
    degradedResponses,
    cacheHits,
    oldestServedAge,
    singleFlightJoins,
    dbQueries,
    pool,
    healthCheckFailures,
    watchPool(endpoint: string, stats: () => { total: number; idle: number; waiting: number }) {
      poolSources.set(endpoint, stats);
    },
    setBreaker(endpoint: string, state: keyof typeof BREAKER_VALUE) {
      breakerState.set({ endpoint }, BREAKER_VALUE[state]);
    },
    setOperationBreaker(operation: string, state: keyof typeof BREAKER_VALUE) {
      operationBreakerState.set({ operation }, BREAKER_VALUE[state]);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

const globalForMetrics = globalThis as unknown as { dashboardMetrics?: Metrics };

/** The process's metrics; Node's default process metrics are collected too. */
export function processMetrics(): Metrics {
  if (!globalForMetrics.dashboardMetrics) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    globalForMetrics.dashboardMetrics = createMetrics(registry);
  }
  return globalForMetrics.dashboardMetrics;
}
