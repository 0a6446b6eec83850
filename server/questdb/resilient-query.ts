import { logEvent, type Logger } from "../observability/logger";
import type { Metrics, QueryOutcome } from "../observability/metrics";
import { cacheKey, type LastKnownGoodCache } from "./cache";
import { withDeadline } from "../lib/with-deadline";
import { DeadlineExceededError, classifyFailure, type FailureInfo } from "./errors";
import type { BreakerState, QuestdbPolicy } from "./policy";
import type { PreparedQuery } from "./queries";

/**
 * The one place a QuestDB failure becomes an answer. Every data procedure goes through `run`,
 * and gets back the contract's union instead of an exception, a hang or an empty message.
 */

export type { BreakerState };

export type Resilient<T> =
  | { status: "ok"; data: T; fetchedAt: string }
  | {
      status: "degraded";
      data: T;
      cachedAt: string;
      reason: "database_unavailable";
      message: string;
      /** The failure in words without the operation, e.g. "connection refused (127.0.0.1:8812)". */
      cause: string;
      breaker: BreakerState;
      retryAt?: string;
    }
  | {
      status: "error";
      data: null;
      reason: "database_unavailable" | "query_failed";
      message: string;
      cause: string;
      breaker: BreakerState;
    };

/** What the resilient query needs of the pool: run a query, and describe and remember failures. */
export interface QueryTarget {
  readonly endpoint: string;
  query(sql: string, params: readonly unknown[], signal?: AbortSignal): Promise<Record<string, unknown>[]>;
  describe(action: string, error: unknown): string;
  noteSuccess(at?: Date): void;
  noteFailure(description: string): void;
}

export interface ResilientQueryDeps {
  target: QueryTarget;
  policy: QuestdbPolicy;
  cache: LastKnownGoodCache;
  deadlineMs: number;
  /** A success younger than this is reused as is: a room of viewers costs about one query per second. */
  freshForMs: number;
  log: Logger;
  metrics: Metrics;
  now?: () => number;
}

export interface QuerySpec<T> {
  /** Procedure name, for metrics, logs and the cache key, e.g. "sessions.active". */
  operation: string;
  /** What the caller wanted, in words, for messages: "get active sessions". */
  action: string;
  input: unknown;
  query: PreparedQuery<T>;
}

interface Fetched<T> {
  value: T;
  fetchedAt: number;
}

function outcomeOf(info: FailureInfo): QueryOutcome {
  if (!info.isConnectionFailure) return "query_failure";
  if (info.kind === "breaker_open" || info.kind === "pool_busy") return info.kind;
  if (info.kind === "connection_timeout" || info.kind === "deadline_exceeded") return "timeout";
  return "connection_failure";
}

export function createResilientQuery(deps: ResilientQueryDeps) {
  const now = deps.now ?? Date.now;
  const inFlight = new Map<string, Promise<Fetched<unknown>>>();
  let oldestServedAgeSeconds = 0;

  function fetchUnderPolicy<T>(key: string, spec: QuerySpec<T>): Promise<Fetched<T>> {
    const started = performance.now();
    const { sql, params, map } = spec.query;
    const flight = (async (): Promise<Fetched<T>> => {
      try {
        const rows = await deps.policy.execute((signal) => {
          deps.metrics.dbQueries.inc({ operation: spec.operation });
          return deps.target.query(sql, params, signal);
        });
        const value = map(rows);
        const fetchedAt = now();
        deps.cache.set(key, value, fetchedAt);
        deps.target.noteSuccess(new Date(fetchedAt));
        oldestServedAgeSeconds = 0;
        deps.metrics.oldestServedAge.set(0);
        deps.metrics.queryDuration.observe({ operation: spec.operation, outcome: "ok" }, (performance.now() - started) / 1000);
        return { value, fetchedAt };
      } catch (error) {
        const info = classifyFailure(error, deps.target.endpoint);
        const message = deps.target.describe(spec.action, error);
        deps.metrics.queryDuration.observe(
          { operation: spec.operation, outcome: outcomeOf(info) },
          (performance.now() - started) / 1000,
        );
        // Failing fast or a full queue says nothing new about QuestDB itself.
        if (info.kind !== "breaker_open" && info.kind !== "pool_busy") deps.target.noteFailure(message);
        logEvent(deps.log, info.kind === "breaker_open" ? "info" : "error", "questdb.query_failed", {
          operation: spec.operation,
          error: message,
          error_type: info.errorType,
          kind: info.kind,
          code: info.code,
          query: sql.replace(/\s+/g, " ").trim().slice(0, 100),
        });
        if (error instanceof Error && error.stack) {
          logEvent(deps.log, "debug", "questdb.query_failed_stack", { operation: spec.operation, stack: error.stack });
        }
        throw error;
      }
    })();
    inFlight.set(key, flight);
    // Past the caller's deadline nobody may be listening: the rejection is handled here.
    flight.then(
      () => inFlight.delete(key),
      () => inFlight.delete(key),
    );
    return flight;
  }

  function answerFailure<T>(key: string, spec: QuerySpec<T>, error: unknown): Resilient<T> {
    const info = classifyFailure(error, deps.target.endpoint);
    const message = deps.target.describe(spec.action, error);
    const cause = message.slice(message.indexOf(": ") + 2);
    const breaker = deps.policy.breakerState();
    if (!info.isConnectionFailure) {
      return { status: "error", data: null, reason: "query_failed", message, cause, breaker };
    }
    const cached = deps.cache.get<T>(key);
    if (!cached) {
      return { status: "error", data: null, reason: "database_unavailable", message, cause, breaker };
    }
    const ageSeconds = (now() - cached.fetchedAt) / 1000;
    deps.metrics.cacheHits.inc({ operation: spec.operation, kind: "stale" });
    deps.metrics.degradedResponses.inc({ operation: spec.operation });
    if (ageSeconds > oldestServedAgeSeconds) {
      oldestServedAgeSeconds = ageSeconds;
      deps.metrics.oldestServedAge.set(ageSeconds);
    }
    const retryAt = deps.policy.retryAt();
    return {
      status: "degraded",
      data: cached.value,
      cachedAt: new Date(cached.fetchedAt).toISOString(),
      reason: "database_unavailable",
      message,
      cause,
      breaker,
      ...(retryAt ? { retryAt: retryAt.toISOString() } : {}),
    };
  }

  return async function run<T>(spec: QuerySpec<T>): Promise<Resilient<T>> {
    const key = cacheKey(spec.operation, spec.input);
    const cached = deps.cache.get<T>(key);
    if (cached && now() - cached.fetchedAt < deps.freshForMs) {
      deps.metrics.cacheHits.inc({ operation: spec.operation, kind: "fresh" });
      deps.metrics.answers.inc({ operation: spec.operation, status: "ok" });
      return { status: "ok", data: cached.value, fetchedAt: new Date(cached.fetchedAt).toISOString() };
    }
    let flight = inFlight.get(key) as Promise<Fetched<T>> | undefined;
    if (flight) deps.metrics.singleFlightJoins.inc({ operation: spec.operation });
    else flight = fetchUnderPolicy(key, spec);

    let answer: Resilient<T>;
    try {
      const { value, fetchedAt } = await withDeadline(flight, deps.deadlineMs, () => new DeadlineExceededError(deps.deadlineMs));
      answer = { status: "ok", data: value, fetchedAt: new Date(fetchedAt).toISOString() };
    } catch (error) {
      answer = answerFailure(key, spec, error);
    }
    deps.metrics.answers.inc({ operation: spec.operation, status: answer.status });
    return answer;
  }
}

export type ResilientQuery = ReturnType<typeof createResilientQuery>;
