import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CANDLE_INTERVALS, DEFAULT_MARKET_INPUT, DEFAULT_SESSIONS_INPUT, TRADE_SYMBOLS } from "@/contract/market";
import { seedDemoData } from "@/demo/seed";
import { type QuestdbProcess, startTestQuestdb } from "@/harness/questdb-process";
import { parseEnv } from "@/server/env";
import { createMetrics } from "@/server/observability/metrics";
import { createCaller } from "@/server/root";
import { createContextInner } from "@/server/trpc";
import { createQuestdbService, type QuestdbService } from "@/server/compose";

/**
 * Isolation, against a real QuestDB: one slow operation must not degrade the others or open the
 * endpoint breaker, and a flood of distinct inputs must not evict what the dashboard shows.
 */

const silent = pino({ level: "silent" });
let questdb: QuestdbProcess;
const services: QuestdbService[] = [];

function service(overrides: Record<string, string> = {}) {
  const s = createQuestdbService(
    parseEnv({ QUESTDB_URL: questdb.pgUrl, QUESTDB_HEALTH_INTERVAL_MS: "500", ...overrides }),
    {
      log: silent,
      metrics: createMetrics(new Registry()),
      dataDir: null,
    },
  );
  services.push(s);
  return { service: s, api: createCaller(createContextInner({ questdb: s })) };
}

beforeAll(async () => {
  questdb = await startTestQuestdb();
  await seedDemoData({ pgUrl: questdb.pgUrl, httpUrl: questdb.httpUrl });
});

afterEach(async () => {
  if (!questdb.isRunning()) await questdb.restart();
  await Promise.all(services.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await questdb?.stop();
  if (questdb) rmSync(questdb.dataDir, { recursive: true, force: true });
});

/**
 * The same operation and input, first cheap (to be cached), then seconds of work for QuestDB.
 * (long_sequence takes no bound parameter; the row count is this test's own constant.)
 */
const heavy = (rows: number) => ({
  operation: "test.heavy",
  action: "sum a long sequence",
  input: { panel: "heavy" },
  query: {
    sql: `SELECT sum(x * x) AS s FROM long_sequence(${rows}) WHERE x > $1`,
    params: [0],
    map: (r: Record<string, unknown>[]) => r,
  },
});

describe("isolation", () => {
  it("one slow operation for a minute: the others answer ok ≥ 95 %, the endpoint breaker stays closed, the slow one is degraded as query_slow", async () => {
    const { service: s, api } = service();
    expect((await s.run(heavy(1_000))).status).toBe("ok");
    await sleep(1_100); // past the reuse window of that success

    const others = { ok: 0, total: 0, notOk: [] as string[] };
    const heavyAnswers: string[] = [];
    const breakerStates = new Set<string>();
    let stop = false;
    const poll = async (call: (i: number) => Promise<{ status: string; message?: string }>) => {
      for (let i = 0; !stop; i++) {
        const answer = await call(i);
        others.total++;
        if (answer.status === "ok") others.ok++;
        else if (others.notOk.length < 5) others.notOk.push(`${answer.status}: ${answer.message}`);
        breakerStates.add(s.health().questdb.breaker);
        await sleep(200);
      }
    };
    const slow = (async () => {
      while (!stop) {
        const answer = await s.run(heavy(4_000_000_000));
        heavyAnswers.push(
          answer.status === "degraded" || answer.status === "error"
            ? `${answer.status}/${answer.reason}`
            : answer.status,
        );
        await sleep(500);
      }
    })();
    // Varied limits: every call is a new input, so QuestDB is really asked, not the 1 s reuse.
    const sessions = poll((i) => api.sessions.active({ limit: (i % 50) + 1 }));
    const candles = poll((i) => api.market.candles({ symbol: "ETH-USD", interval: "5m", limit: (i % 50) + 1 }));
    await sleep(60_000);
    stop = true;
    await Promise.all([slow, sessions, candles]);

    expect(others.total).toBeGreaterThan(100);
    expect(others.ok / others.total, JSON.stringify(others.notOk)).toBeGreaterThanOrEqual(0.95);
    expect([...breakerStates]).toEqual(["closed"]);
    expect(heavyAnswers.length).toBeGreaterThan(3);
    expect(new Set(heavyAnswers), heavyAnswers.join(", ")).toEqual(new Set(["degraded/query_slow"]));
  }, 120_000);

  it("after 2,000 distinct inputs from one client, an outage still answers the dashboard's default panels degraded with their rows", async () => {
    // A small budget, so the flood really is more than the cache holds.
    const { service: s, api } = service({ QUESTDB_CACHE_MAX_MB: "1" });
    const sessionsBefore = await api.sessions.active(DEFAULT_SESSIONS_INPUT);
    const candlesBefore = await api.market.candles(DEFAULT_MARKET_INPUT);
    expect(sessionsBefore.status).toBe("ok");
    expect(candlesBefore.status).toBe("ok");
    // The page polls: its inputs are asked for again.
    await sleep(1_100);
    await api.sessions.active(DEFAULT_SESSIONS_INPUT);
    await api.market.candles(DEFAULT_MARKET_INPUT);

    const flood = [];
    for (const symbol of TRADE_SYMBOLS) {
      for (const interval of CANDLE_INTERVALS) {
        for (let limit = 1; flood.length < 2_000 && limit <= 1_000; limit++) flood.push({ symbol, interval, limit });
      }
    }
    const floodInputs = flood
      .slice(0, 2_000)
      .filter(
        (input) =>
          input.symbol !== DEFAULT_MARKET_INPUT.symbol ||
          input.interval !== DEFAULT_MARKET_INPUT.interval ||
          input.limit !== DEFAULT_MARKET_INPUT.limit,
      );
    let flooded = 0;
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < floodInputs.length; i += 8) {
        if ((await api.market.candles(floodInputs[i]!)).status === "ok") flooded++;
      }
    });
    await Promise.all(workers);
    expect(flooded).toBeGreaterThanOrEqual(1_990);

    await questdb.kill();
    const sessions = await api.sessions.active(DEFAULT_SESSIONS_INPUT);
    const candles = await api.market.candles(DEFAULT_MARKET_INPUT);
    expect(sessions).toMatchObject({ status: "degraded", reason: "database_unavailable" });
    expect(candles).toMatchObject({ status: "degraded", reason: "database_unavailable" });
    expect(sessions.data).toEqual(sessionsBefore.status === "ok" ? sessionsBefore.data : null);
    expect(candles.data?.length).toBe(candlesBefore.data?.length);
    // The flood itself was not all kept: its first inputs are gone.
    expect((await api.market.candles(floodInputs[0]!)).status).toBe("error");
    expect(s.health().status).toBe("degraded");
  }, 180_000);
});
