import { Registry, collectDefaultMetrics } from "prom-client";
import { describe, expect, it } from "vitest";
import { runPromtool } from "@/harness/prometheus-process";
import { DROPPED_DEFAULT_METRICS, collectProcessMetrics, createMetrics } from "./metrics";

/** What /api/metrics serves, held to Prometheus's own naming rules (`promtool check metrics`). */

/** A registry as the process builds it, with every metric given a value, as after some traffic. */
function busyRegistry() {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const metrics = createMetrics(registry);
  metrics.setBreaker("127.0.0.1:8812", "open");
  metrics.setOperationBreaker("market.candles", "half-open");
  metrics.breakerTransitions.inc({ endpoint: "127.0.0.1:8812", state: "open" });
  metrics.queryDuration.observe({ operation: "sessions.active", outcome: "ok" }, 0.004);
  metrics.retries.inc({ endpoint: "127.0.0.1:8812" });
  metrics.answers.inc({ operation: "sessions.active", status: "degraded" });
  metrics.answersByReason.inc({ operation: "sessions.active", status: "degraded", reason: "database_unavailable" });
  metrics.degradedResponses.inc({ operation: "sessions.active" });
  metrics.cacheHits.inc({ operation: "sessions.active", kind: "stale" });
  metrics.oldestServedAge.set(12);
  metrics.singleFlightJoins.inc({ operation: "sessions.active" });
  metrics.dbQueries.inc({ operation: "sessions.active" });
  metrics.healthCheckFailures.inc({ endpoint: "127.0.0.1:8812" });
  metrics.watchPool("127.0.0.1:8812", () => ({ total: 3, idle: 1, waiting: 0 }));
  metrics.watchLive(() => ({ topics: 2, subscribers: 5, loops: 1 }));
  metrics.watchRedis(() => "unavailable");
  metrics.countSignIn("provider_unreachable");
  return registry;
}

describe("metrics", () => {
  it("passes `promtool check metrics` with nothing to say", async () => {
    const { code, output } = runPromtool(["check", "metrics"], { input: await busyRegistry().metrics() });
    expect(output).toBe("");
    expect(code).toBe(0);
  });

  it("leaves out prom-client's gauges named _total, which promtool flags, and keeps their labelled twins", async () => {
    const raw = new Registry();
    collectDefaultMetrics({ register: raw });
    const flagged = runPromtool(["check", "metrics"], { input: await raw.metrics() });
    for (const name of DROPPED_DEFAULT_METRICS) expect(flagged.output).toContain(name);

    const text = await busyRegistry().metrics();
    for (const name of DROPPED_DEFAULT_METRICS) {
      expect(text).not.toContain(`${name} `);
      expect(text).toContain(`# TYPE ${name.replace(/_total$/, "")} gauge`);
    }
  });

  it("reads the pool, live topics and Redis at scrape time; Redis only once something watches it", async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    expect(await registry.metrics()).not.toMatch(/^dashboard_redis_state\{/m);

    let redis: "ok" | "unavailable" = "ok";
    let streams = 4;
    metrics.watchRedis(() => redis);
    metrics.watchLive(() => ({ topics: 2, subscribers: streams, loops: 1 }));
    expect(await registry.metrics()).toMatch(/^dashboard_redis_state\{state="ok"\} 1$/m);
    redis = "unavailable";
    streams = 7;
    const text = await registry.metrics();
    expect(text).toMatch(/^dashboard_redis_state\{state="unavailable"\} 1$/m);
    expect(text).toMatch(/^dashboard_redis_state\{state="ok"\} 0$/m);
    expect(text).toMatch(/^dashboard_live_streams 7$/m);
    expect(text).toMatch(/^dashboard_live_topics 2$/m);
  });

  it("counts every sign-in outcome from 0, so an alert can see that none succeeded", async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    metrics.countSignIn("provider_unreachable");
    const text = await registry.metrics();
    expect(text).toMatch(/^dashboard_signins_total\{outcome="signed_in"\} 0$/m);
    expect(text).toMatch(/^dashboard_signins_total\{outcome="provider_unreachable"\} 1$/m);
  });
});
