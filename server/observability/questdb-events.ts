import { FAILURE_KINDS } from "@/server/questdb/errors";
import type { QuestdbEvent } from "@/server/questdb/events";
import { logEvent, type Logger } from "./logger";
import type { Metrics } from "./metrics";

/**
 * The one place where what the QuestDB layer reports becomes log lines and metrics. Pool, policy
 * and resilient query only emit typed events (server/questdb/events.ts); this is one subscriber of
 * the composition root's event hub (server/compose.ts).
 */
export function questdbEventRecorder(opts: {
  endpoint: string;
  log: Logger;
  metrics: Metrics;
}): (event: QuestdbEvent) => void {
  const { endpoint, log, metrics } = opts;
  // Age of the oldest cached value served since QuestDB last answered.
  let oldestServedAgeSeconds = 0;

  return (event) => {
    switch (event.type) {
      case "retry":
        logEvent(log, "warn", "questdb.retry", { attempt: event.attempt, delay_ms: event.delayMs, cause: event.cause });
        metrics.retries.inc({ endpoint });
        return;
      case "breaker_changed":
      case "operation_breaker_changed":
        return recordBreakerChanged(event, { endpoint, log, metrics });
      case "breaker_released":
        logEvent(log, "info", "questdb.breaker_released", { reason: event.reason });
        return;
      case "health_checked":
        return;
      case "health_check_failed":
        logEvent(log, "warn", "questdb.health_check_failed", {
          endpoint,
          error: event.error,
          error_type: event.errorType,
          evicted: event.evicted,
          checked: event.checked,
        });
        if (!event.answered) metrics.healthCheckFailures.inc({ endpoint });
        return;
      case "idle_connection_lost":
        logEvent(log, "warn", "questdb.idle_connection_lost", {
          endpoint,
          error: event.error,
          error_type: event.errorType,
        });
        return;
      case "query_started":
        metrics.dbQueries.inc({ operation: event.operation });
        return;
      case "query_succeeded":
        oldestServedAgeSeconds = 0;
        metrics.oldestServedAge.set(0);
        metrics.queryDuration.observe({ operation: event.operation, outcome: "ok" }, event.seconds);
        return;
      case "query_failed":
        return recordQueryFailed(event, { endpoint, log, metrics });
      case "single_flight_joined":
        metrics.singleFlightJoins.inc({ operation: event.operation });
        return;
      case "answered":
        metrics.answers.inc({ operation: event.operation, status: event.status });
        if (event.fromCache) metrics.cacheHits.inc({ operation: event.operation, kind: event.fromCache });
        if (event.status === "degraded") metrics.degradedResponses.inc({ operation: event.operation });
        if (event.reason) {
          metrics.answersByReason.inc({ operation: event.operation, status: event.status, reason: event.reason });
        }
        if (event.ageSeconds !== undefined && event.ageSeconds > oldestServedAgeSeconds) {
          oldestServedAgeSeconds = event.ageSeconds;
          metrics.oldestServedAge.set(event.ageSeconds);
        }
        return;
    }
  };
}

interface Recording {
  endpoint: string;
  log: Logger;
  metrics: Metrics;
}

/** The endpoint's breaker (log, state gauge, transitions) or one operation's (log, its gauge). */
function recordBreakerChanged(
  event: Extract<QuestdbEvent, { type: "breaker_changed" | "operation_breaker_changed" }>,
  { endpoint, log, metrics }: Recording,
): void {
  const level = event.state === "open" ? "warn" : "info";
  const words = event.state === "half-open" ? "half_open" : event.state === "open" ? "opened" : "closed";
  if (event.type === "operation_breaker_changed") {
    logEvent(log, level, `questdb.operation_breaker_${words}`, {
      operation: event.operation,
      state: event.state,
      ...(event.cause ? { cause: event.cause } : {}),
    });
    metrics.setOperationBreaker(event.operation, event.state);
    return;
  }
  const fields =
    event.state === "open"
      ? { state: event.state, cause: event.cause, retry_in_ms: event.retryInMs }
      : { state: event.state };
  logEvent(log, level, `questdb.breaker_${words}`, fields);
  metrics.setBreaker(endpoint, event.state);
  metrics.breakerTransitions.inc({ endpoint, state: event.state });
}

/** A failed query: its duration by outcome, one log line (and its stack, at debug). */
function recordQueryFailed(event: Extract<QuestdbEvent, { type: "query_failed" }>, { log, metrics }: Recording): void {
  const { failure } = event;
  metrics.queryDuration.observe(
    { operation: event.operation, outcome: FAILURE_KINDS[failure.kind].outcome },
    event.seconds,
  );
  logEvent(log, failure.kind === "breaker_open" ? "info" : "error", "questdb.query_failed", {
    operation: event.operation,
    error: event.message,
    error_type: failure.errorType,
    kind: failure.kind,
    code: failure.code,
    query: event.sql.replace(/\s+/g, " ").trim().slice(0, 100),
  });
  if (event.stack)
    logEvent(log, "debug", "questdb.query_failed_stack", { operation: event.operation, stack: event.stack });
}
