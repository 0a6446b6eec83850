import { Writable } from "node:stream";
import pino from "pino";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics";
import { questdbEventRecorder } from "./questdb-events";

function recorder() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const metrics = createMetrics(new Registry());
  const record = questdbEventRecorder({ endpoint: "127.0.0.1:8812", log: pino({ level: "debug" }, sink), metrics });
  const value = async (
    metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> },
    labels: Record<string, string> = {},
  ) => (await metric.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  return { record, lines, metrics, value };
}

const refused = {
  kind: "connection_refused",
  cause: "connection refused (127.0.0.1:8812)",
  errorType: "Error",
  code: "ECONNREFUSED",
} as const;

describe("QuestDB events → logs and metrics", () => {
  it("a failed query: one questdb.query_failed line with the message and kind, and its outcome in the histogram", async () => {
    const { record, lines, metrics } = recorder();
    record({
      type: "query_failed",
      operation: "sessions.active",
      seconds: 0.2,
      failure: refused,
      message: "Failed to get active sessions: connection refused (127.0.0.1:8812)",
      sql: "SELECT  1\n FROM t",
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      event: "questdb.query_failed",
      level: 50,
      operation: "sessions.active",
      kind: "connection_refused",
      error: "Failed to get active sessions: connection refused (127.0.0.1:8812)",
      query: "SELECT 1 FROM t",
    });
    const counts = (await metrics.queryDuration.get()).values.filter(
      (v) => v.metricName === "questdb_query_duration_seconds_count",
    );
    expect(counts.map((v) => [v.labels.outcome, v.value])).toEqual([["connection_failure", 1]]);
  });

  it("breaker changes: the gauge, the transition counter and one line each", async () => {
    const { record, lines, metrics, value } = recorder();
    record({ type: "breaker_changed", state: "open", cause: "connection refused (127.0.0.1:8812)", retryInMs: 30_000 });
    expect(await value(metrics.breakerState)).toBe(2);
    record({ type: "breaker_changed", state: "closed" });
    expect(await value(metrics.breakerState)).toBe(0);
    expect(await value(metrics.breakerTransitions, { state: "open" })).toBe(1);
    expect(lines.map((l) => l.event)).toEqual(["questdb.breaker_opened", "questdb.breaker_closed"]);
    expect(lines[0]).toMatchObject({ cause: "connection refused (127.0.0.1:8812)", retry_in_ms: 30_000 });
  });

  it("an operation's own breaker: its gauge by operation and one line naming it", async () => {
    const { record, lines, metrics, value } = recorder();
    record({
      type: "operation_breaker_changed",
      operation: "market.candles",
      state: "open",
      cause: "query slow: no answer within 2000 ms while QuestDB answers other queries",
    });
    expect(await value(metrics.operationBreakerState, { operation: "market.candles" })).toBe(2);
    expect(lines[0]).toMatchObject({
      event: "questdb.operation_breaker_opened",
      operation: "market.candles",
      cause: expect.stringMatching(/^query slow/),
    });
    expect(await value(metrics.breakerState)).toBe(0);
  });

  it("answers: counted by status, stale ones as degraded with the oldest age served, reset by the next success", async () => {
    const { record, metrics, value } = recorder();
    record({ type: "answered", operation: "sessions.active", status: "ok", fromCache: "fresh" });
    record({ type: "answered", operation: "sessions.active", status: "degraded", fromCache: "stale", ageSeconds: 12 });
    record({ type: "answered", operation: "sessions.active", status: "degraded", fromCache: "stale", ageSeconds: 5 });
    expect(await value(metrics.answers, { status: "ok" })).toBe(1);
    expect(await value(metrics.degradedResponses)).toBe(2);
    expect(await value(metrics.cacheHits, { kind: "stale" })).toBe(2);
    expect(await value(metrics.oldestServedAge)).toBe(12);
    record({ type: "query_succeeded", operation: "sessions.active", seconds: 0.01 });
    expect(await value(metrics.oldestServedAge)).toBe(0);
  });

  it("retries, attempts, single-flight joins and failed health checks are counted", async () => {
    const { record, metrics, value, lines } = recorder();
    record({ type: "retry", attempt: 1, delayMs: 100, cause: "connection refused (127.0.0.1:8812)" });
    record({ type: "query_started", operation: "market.candles" });
    record({ type: "single_flight_joined", operation: "market.candles" });
    record({
      type: "health_check_failed",
      answered: false,
      error: "Failed to run the health check: connection refused",
      errorType: "Error",
      evicted: 1,
      checked: 1,
    });
    record({
      type: "health_check_failed",
      answered: true,
      error: "Failed to run the health check: connection reset",
      errorType: "Error",
      evicted: 1,
      checked: 2,
    });
    expect(await value(metrics.retries)).toBe(1);
    expect(await value(metrics.dbQueries, { operation: "market.candles" })).toBe(1);
    expect(await value(metrics.singleFlightJoins)).toBe(1);
    // Only a check no connection answered says QuestDB is down.
    expect(await value(metrics.healthCheckFailures)).toBe(1);
    expect(lines.map((l) => l.event)).toEqual([
      "questdb.retry",
      "questdb.health_check_failed",
      "questdb.health_check_failed",
    ]);
  });

  it("degraded and error answers: counted by their reason, so an alert can say whose problem it is", async () => {
    const { record, metrics, value } = recorder();
    record({ type: "answered", operation: "sessions.active", status: "ok" });
    record({ type: "answered", operation: "sessions.active", status: "degraded", reason: "query_slow" });
    record({ type: "answered", operation: "sessions.active", status: "error", reason: "database_unavailable" });
    expect(await value(metrics.answersByReason, { status: "degraded", reason: "query_slow" })).toBe(1);
    expect(await value(metrics.answersByReason, { status: "error", reason: "database_unavailable" })).toBe(1);
    expect((await metrics.answersByReason.get()).values).toHaveLength(2);
  });
});
