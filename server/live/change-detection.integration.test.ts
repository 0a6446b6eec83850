import pg from "pg";
import pino from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemoData } from "@/demo/seed";
import { eventually } from "@/harness/eventually";
import { type QuestdbProcess, startTestQuestdb } from "@/harness/questdb-process";
import { CHANGES_OPERATION, createQuestdbService } from "@/server/compose";
import { parseEnv } from "@/server/env";
import { createMetrics } from "@/server/observability/metrics";
import { activeSessionsQuery } from "@/server/questdb/queries";

/**
 * Change detection against a real QuestDB: with no writes a live topic runs no full query after its
 * first (only the detector's cheap check), and one write makes it query once and push the change.
 */

let questdb: QuestdbProcess;

beforeAll(async () => {
  questdb = await startTestQuestdb();
  await seedDemoData({ pgUrl: questdb.pgUrl, httpUrl: questdb.httpUrl });
}, 120_000);

afterAll(async () => {
  await questdb?.stop();
});

const sessions = {
  operation: "sessions.active",
  action: "get active sessions",
  input: { limit: 50 },
  query: activeSessionsQuery(50),
};

async function started(registry: Registry, operation: string): Promise<number> {
  const metric = await registry.getSingleMetric("questdb_queries_started_total")?.get();
  return metric?.values.find((v) => v.labels.operation === operation)?.value ?? 0;
}

describe("live topics driven by QuestDB's writes", () => {
  it("no writes: no full queries; one write: one full query and the new session pushed within a second", async () => {
    const registry = new Registry();
    const service = createQuestdbService(parseEnv({ QUESTDB_URL: questdb.pgUrl }), {
      log: pino({ level: "silent" }),
      metrics: createMetrics(registry),
      dataDir: null,
    });
    const controller = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const event of service.live(sessions, undefined, controller.signal)) {
        seen.push(JSON.stringify(event.answer));
      }
    })();
    await eventually(() => seen.length === 1, { timeoutMs: 10_000 });
    // The detector's first sight of the table may cost one more query; then quiet.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const quietFrom = await started(registry, "sessions.active");
    const checksFrom = await started(registry, CHANGES_OPERATION);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await started(registry, "sessions.active")).toBe(quietFrom);
    expect((await started(registry, CHANGES_OPERATION)) - checksFrom).toBeGreaterThanOrEqual(20);

    const client = new pg.Client({ connectionString: questdb.pgUrl });
    await client.connect();
    const sessionId = `detector-${Date.now()}`;
    const wroteAt = performance.now();
    await client.query(
      `INSERT INTO session_events (ts, session_id, strategy, symbol, mode, status, pnl, started_at)
       VALUES (now(), $1, 'it', 'BTC-USD', 'paper', 'running', 0.0, now())`,
      [sessionId],
    );
    await client.end();
    await eventually(() => seen.some((text) => text.includes(sessionId)), { timeoutMs: 5_000 });
    expect(performance.now() - wroteAt).toBeLessThan(1_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await started(registry, "sessions.active")) - quietFrom).toBe(1);

    controller.abort();
    await reading;
    await service.close();
  }, 60_000);
});
