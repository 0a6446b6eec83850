import { rmSync } from "node:fs";
import Redis from "ioredis";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { seedDemoData } from "@/demo/seed";
import { eventually } from "@/harness/eventually";
import { type QuestdbProcess, startTestQuestdb } from "@/harness/questdb-process";
import { startRedis, type RedisProcess } from "@/harness/redis-process";
import { parseEnv } from "@/server/env";
import { createMetrics } from "@/server/observability/metrics";
import { createCaller } from "@/server/root";
import { createContextInner } from "@/server/trpc";
import { createQuestdbService, type QuestdbService } from "@/server/compose";
import { cacheKey } from "@/server/last-known-good/memory-cache";
import { activeSessionsQuery } from "./queries";

/**
 * Fleet mode against a real QuestDB and a real Redis: several services (as app instances would
 * be) share last-known-good answers, one query per input per reuse window, and the breaker.
 */

const silent = pino({ level: "silent" });
let questdb: QuestdbProcess;
let redis: RedisProcess;
const services: QuestdbService[] = [];

function instance(overrides: Record<string, string> = {}, clockSkewMs = 0) {
  const metrics = createMetrics(new Registry());
  const now = clockSkewMs === 0 ? undefined : () => Date.now() + clockSkewMs;
  const s = createQuestdbService(
    parseEnv({
      QUESTDB_URL: questdb.pgUrl,
      REDIS_URL: redis.url,
      QUESTDB_HEALTH_INTERVAL_MS: "500",
      QUESTDB_BREAKER_RECOVERY_MS: "10000",
      ...overrides,
    }),
    { log: silent, metrics, dataDir: null, now },
  );
  services.push(s);
  const queries = async () => (await metrics.dbQueries.get()).values.reduce((n, v) => n + v.value, 0);
  return { service: s, api: createCaller(createContextInner({ questdb: s })), queries };
}

beforeAll(async () => {
  [questdb, redis] = await Promise.all([startTestQuestdb(), startRedis()]);
  await seedDemoData({ pgUrl: questdb.pgUrl, httpUrl: questdb.httpUrl });
});

afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
  if (!redis.isRunning()) await redis.restart();
  if (!questdb.isRunning()) await questdb.restart();
});

afterAll(async () => {
  await Promise.all([questdb?.stop(), redis?.stop()]);
  if (questdb) rmSync(questdb.dataDir, { recursive: true, force: true });
});

describe("fleet mode", () => {
  it("three instances polling one input cost QuestDB about what one instance does", async () => {
    const fleet = [instance(), instance(), instance()];
    const started = Date.now();
    // Each instance polled every 100 ms for 5 s: 150 polls, each a chance to query QuestDB.
    await Promise.all(
      fleet.map(async ({ api }, i) => {
        await sleep(i * 33);
        while (Date.now() - started < 5_000) {
          expect((await api.sessions.active({ limit: 42 })).status).toBe("ok");
          await sleep(100);
        }
      }),
    );
    const queries = (await Promise.all(fleet.map((f) => f.queries()))).reduce((a, b) => a + b, 0);
    // One query per reuse window (1 s) for the fleet: about 5–6 in 5 s, never one per instance each time.
    expect(queries).toBeGreaterThanOrEqual(4);
    expect(queries).toBeLessThanOrEqual(9);
  });

  it("an instance that never asked answers from the fleet's data in an outage: degraded, with the original cachedAt", async () => {
    const a = instance();
    const b = instance();
    const before = await a.api.sessions.active({ limit: 100 });
    expect(before.status).toBe("ok");
    await sleep(1_100); // past the reuse window: B must ask, and QuestDB is gone
    await questdb.kill();
    const fromB = await b.api.sessions.active({ limit: 100 });
    expect(fromB).toMatchObject({ status: "degraded", reason: "database_unavailable" });
    expect(fromB.status === "degraded" && fromB.cachedAt).toBe(before.status === "ok" && before.fetchedAt);
    // A restarted instance (new process, nothing in memory or on disk) too.
    const c = instance();
    const fromC = await c.api.sessions.active({ limit: 100 });
    expect(fromC.status === "degraded" && fromC.cachedAt).toBe(before.status === "ok" && before.fetchedAt);
  });

  it("one instance opens the breaker: the others fail fast within a second, and all close again when QuestDB is back", async () => {
    const a = instance({ QUESTDB_RETRY_DELAYS_MS: "10,10,10", QUESTDB_BREAKER_THRESHOLD: "2" });
    const b = instance();
    expect((await b.api.sessions.active({ limit: 5 })).status).toBe("ok");
    await sleep(1_100); // past the reuse window of that answer
    await questdb.kill();
    await eventually(
      async () =>
        (await a.api.sessions.active({ limit: Math.floor(Math.random() * 400) + 1 })) &&
        a.service.health().questdb.breaker === "open",
      {
        what: "A's breaker to open",
        intervalMs: 20,
      },
    );
    const openedAt = Date.now();
    await eventually(() => b.service.health().questdb.breaker === "open", {
      what: "B to learn it",
      intervalMs: 10,
      timeoutMs: 3_000,
    });
    expect(Date.now() - openedAt).toBeLessThan(1_000);
    const fast = await b.api.sessions.active({ limit: 5 });
    expect(fast).toMatchObject({ status: "degraded", breaker: "open" });
    expect(fast.status === "degraded" && fast.cause).toMatch(/^circuit breaker open after .+seen by another instance$/);

    await questdb.restart();
    await eventually(
      () => a.service.health().questdb.breaker === "closed" && b.service.health().questdb.breaker === "closed",
      {
        what: "every breaker closed",
        timeoutMs: 20_000,
      },
    );
  });

  it("Redis killed: answers keep coming within the deadline, health says redis unavailable; Redis back: it rejoins by itself", async () => {
    const a = instance();
    expect((await a.api.sessions.active({ limit: 7 })).status).toBe("ok");
    await redis.kill();
    for (let i = 0; i < 10; i++) {
      const t = Date.now();
      const answer = await a.api.sessions.active({ limit: 8 + i });
      expect(answer.status).toBe("ok");
      expect(Date.now() - t).toBeLessThan(3_000);
    }
    await eventually(() => a.service.health().redis === "unavailable", { what: "redis unavailable in health" });
    await redis.restart();
    await eventually(() => a.service.health().redis === "ok", { what: "redis back in health", timeoutMs: 15_000 });
  });

  const sessions = (limit: number) => ({
    operation: "sessions.active",
    action: "get active sessions",
    input: { limit },
    query: activeSessionsQuery(limit),
  });

  it("an instance whose clock runs 60 s ahead cannot make another serve its answer as ok past the reuse window", async () => {
    const ahead = instance({}, 60_000);
    const b = instance();
    expect((await ahead.api.sessions.active({ limit: 31 })).status).toBe("ok");
    await sleep(1_100);
    const before = await b.queries();
    const fromB = await b.api.sessions.active({ limit: 31 });
    expect(fromB.status).toBe("ok");
    expect(await b.queries()).toBe(before + 1);
    expect(fromB.status === "ok" && Date.parse(fromB.fetchedAt)).toBeLessThanOrEqual(Date.now());
  });

  it("an instance whose clock runs 60 s behind answers degraded, not ok, in an outage", async () => {
    const a = instance();
    const behind = instance({}, -60_000);
    expect((await a.api.sessions.active({ limit: 32 })).status).toBe("ok");
    await sleep(1_100);
    await questdb.kill();
    const fromBehind = await behind.api.sessions.active({ limit: 32 });
    expect(fromBehind).toMatchObject({ status: "degraded", reason: "database_unavailable" });
    expect(fromBehind.status === "degraded" && Date.parse(fromBehind.cachedAt)).toBeLessThanOrEqual(
      Date.now() - 60_000,
    );
  });

  it("an entry in Redis in another format is skipped in an outage: the union, never a thrown RangeError", async () => {
    const raw = new Redis(redis.url);
    await raw.hset(
      `dashboard:answer:${cacheKey("sessions.active", { limit: 33 })}`,
      "fetchedAt",
      "soon",
      "value",
      "[]",
    );
    raw.disconnect();
    const a = instance();
    await questdb.kill();
    const answer = await a.api.sessions.active({ limit: 33 });
    expect(answer).toMatchObject({ status: "error", reason: "database_unavailable" });
  });

  it("a live topic's shorter window holds in fleet mode: its tick queries QuestDB rather than reuse an older answer", async () => {
    const a = instance();
    const b = instance();
    expect((await a.service.run(sessions(34))).status).toBe("ok");
    await sleep(700);
    const before = (await a.queries()) + (await b.queries());
    expect((await b.service.run(sessions(34), { freshForMs: 500 })).status).toBe("ok");
    expect((await a.queries()) + (await b.queries())).toBe(before + 1);
  });
});
