import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { seedDemoData } from "@/demo/seed";
import { eventually } from "@/harness/eventually";
import { pgUrlFor, startTestQuestdb, type QuestdbProcess } from "@/harness/questdb-process";
import { startToxiproxy, toxic, type Proxy, type Toxiproxy } from "@/harness/toxiproxy";
import { parseEnv } from "@/server/env";
import { createMetrics } from "@/server/observability/metrics";
import { createCaller } from "@/server/root";
import { createContextInner } from "@/server/trpc";
import { createQuestdbService, type QuestdbService } from "@/server/compose";
import type { Resilient } from "@/contract/answer";

/**
 * The resilient layer against a real QuestDB behind a real Toxiproxy: a slow link, a link slower
 * than the attempt limit, a blackhole, resets and a cut in the middle of a result. Nothing is
 * mocked. Times are bounded only from above, generously: they prove "no hang", not speed.
 */

const silent = pino({ level: "silent" });
/** Slack on every upper bound: a loaded CI machine must not fail these. */
const SLACK_MS = 1_500;

let questdb: QuestdbProcess;
let toxiproxy: Toxiproxy;
let proxy: Proxy;
const services: QuestdbService[] = [];

type Row = Record<string, unknown>;

/** A service through the proxy; every call goes to QuestDB (no fresh-reuse window). */
function service(overrides: Record<string, string> = {}) {
  const config = parseEnv({ QUESTDB_URL: pgUrlFor(proxy.listenPort), QUESTDB_HEALTH_INTERVAL_MS: "500", ...overrides });
  const s = createQuestdbService(config, {
    log: silent,
    metrics: createMetrics(new Registry()),
    freshForMs: 0,
    dataDir: null,
  });
  services.push(s);
  return { service: s, api: createCaller(createContextInner({ questdb: s })), config };
}

type Api = ReturnType<typeof service>["api"];

/**
 * About 12 MB on the wire (200,000 rows of ~60 bytes), or its first `limit` rows. The cache key
 * is the operation and `input` only, so a small result can stand in as the cached answer.
 */
function heavyResult(s: QuestdbService, input: unknown, limit = 200_000): Promise<Resilient<Row[]>> {
  return s.run({
    operation: "test.heavy",
    action: "read a heavy result",
    input,
    query: { sql: "SELECT x, rnd_str(50,50,0) s FROM long_sequence(200000) LIMIT $1", params: [limit], map: (r) => r },
  });
}

/** A deterministic result, so a cached answer can be compared row for row. */
function sequence(s: QuestdbService, input: unknown, rows: number): Promise<Resilient<Row[]>> {
  return s.run({
    operation: "test.sequence",
    action: "read a long sequence",
    input,
    query: { sql: `SELECT x FROM long_sequence(${rows})`, params: [], map: (r) => r },
  });
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await work();
  return [value, Math.round(performance.now() - start)];
}

/** The parts of an answer worth printing when an expectation fails. */
function summary(answer: Resilient<unknown>) {
  const { data, ...rest } = answer;
  return { ...rest, rows: Array.isArray(data) ? data.length : data };
}

function expectOk<T>(answer: Resilient<T>): Extract<Resilient<T>, { status: "ok" }> {
  expect(summary(answer)).toMatchObject({ status: "ok" });
  return answer as Extract<Resilient<T>, { status: "ok" }>;
}

/** Asks for both dashboard panels every 100 ms until `stop()`: what they answered, and the endpoint breaker's states. */
async function pollPanels(api: Api, s: QuestdbService, stop: () => boolean) {
  const statuses: string[] = [];
  const breakers = new Set<string>();
  while (!stop()) {
    const answers = await Promise.all([
      api.sessions.active({ limit: 50 }),
      api.market.candles({ symbol: "BTC-USD", interval: "1m" }),
    ]);
    statuses.push(...answers.map((answer) => answer.status));
    breakers.add(s.health().questdb.breaker);
    await sleep(100);
  }
  return { statuses, breakers };
}

describe("through Toxiproxy to a real QuestDB", () => {
  beforeAll(async () => {
    [questdb, toxiproxy] = await Promise.all([startTestQuestdb(), startToxiproxy()]);
    await seedDemoData({ pgUrl: questdb.pgUrl, httpUrl: questdb.httpUrl });
    proxy = await toxiproxy.createProxy("questdb_pg", `127.0.0.1:${questdb.pgPort}`);
  }, 300_000);

  afterEach(async () => {
    // Toxics first, so attempts still stuck behind one end at once and the pools close quickly.
    await proxy?.resetToxics();
    await Promise.all(services.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    await proxy?.delete().catch(() => undefined);
    await toxiproxy?.stop();
    await questdb?.stop();
    if (questdb) rmSync(questdb.dataDir, { recursive: true, force: true });
  });

  it("bandwidth-limited link: a heavy query is degraded from its cache as query_slow; the other panels stay ok, the endpoint breaker closed", async () => {
    const { service: s, api, config } = service();
    const heavyInput = { panel: "heavy" };
    const primed = expectOk(await heavyResult(s, heavyInput, 10));
    expect(primed.data).toHaveLength(10);
    // Toxiproxy paces each connection on its own: the ~12 MB result would take minutes at
    // 100 KB/s, a panel's few kilobytes take a fraction of a second.
    await proxy.addToxic(toxic.bandwidth(100));

    const heavy: Array<[Resilient<Row[]>, number]> = [];
    let done = false;
    const panels = pollPanels(api, s, () => done);
    // An input never fetched waits for its own flight, up to the full deadline.
    const uncached = timed(() => heavyResult(s, { panel: "never fetched" }));
    try {
      // Spread over two flights of two attempts each: answered at the soft deadline, as a flight
      // ends, and once the operation's own breaker pauses it.
      for (let i = 0; i < 8; i++) {
        heavy.push(await timed(() => heavyResult(s, heavyInput)));
        await sleep(200);
      }
    } finally {
      done = true;
    }
    const [[uncachedAnswer, uncachedMs], { statuses, breakers }] = await Promise.all([uncached, panels]);

    const seen = JSON.stringify(heavy.map(([answer, ms]) => ({ ...summary(answer), ms })));
    for (const [answer, ms] of heavy) {
      expect(summary(answer), seen).toMatchObject({
        status: "degraded",
        reason: "query_slow",
        cause: expect.stringMatching(/^query slow: /),
      });
      expect(answer.data).toEqual(primed.data);
      expect(ms).toBeLessThan(config.QUESTDB_SOFT_DEADLINE_MS + SLACK_MS);
    }
    expect(summary(uncachedAnswer)).toMatchObject({ status: "error", reason: "query_slow", rows: null });
    expect(uncachedMs).toBeLessThan(config.QUESTDB_DEADLINE_MS + SLACK_MS);

    expect(statuses.length).toBeGreaterThanOrEqual(10);
    const okShare = statuses.filter((status) => status === "ok").length / statuses.length;
    expect(okShare, JSON.stringify(statuses)).toBeGreaterThanOrEqual(0.95);
    expect([...breakers]).toEqual(["closed"]);
    expect(s.health().questdb.breaker).toBe("closed");
  });

  it("latency above the attempt limit: cached → degraded within the soft deadline, uncached → error within the deadline; ok again once it goes", async () => {
    const { service: s, api, config } = service({ QUESTDB_QUERY_TIMEOUT_MS: "1000" });
    const primed = expectOk(await api.sessions.active({ limit: 50 }));
    await proxy.addToxic(toxic.latency(1500));

    const [cached, cachedMs] = await timed(() => api.sessions.active({ limit: 50 }));
    expect(summary(cached)).toMatchObject({
      status: "degraded",
      reason: "database_unavailable",
      cachedAt: primed.fetchedAt,
    });
    expect(cached.data).toEqual(primed.data);
    expect(cached.status !== "ok" && cached.message).toMatch(/^Failed to get active sessions: \S/);
    expect(cachedMs).toBeLessThan(config.QUESTDB_SOFT_DEADLINE_MS + SLACK_MS);

    const [uncached, uncachedMs] = await timed(() => api.sessions.active({ limit: 7 }));
    expect(summary(uncached)).toMatchObject({ status: "error", reason: "database_unavailable", rows: null });
    expect(uncached.status !== "ok" && uncached.message).toMatch(/^Failed to get active sessions: \S/);
    expect(uncachedMs).toBeLessThan(config.QUESTDB_DEADLINE_MS + SLACK_MS);

    await proxy.resetToxics();
    await eventually(async () => (await api.sessions.active({ limit: 50 })).status === "ok", {
      what: "ok once the latency is gone",
    });
    expect(s.health().questdb.breaker).toBe("closed");
  });

  it("blackhole: cached → degraded within the soft deadline, the endpoint breaker opens; ok again once it goes", async () => {
    const { service: s, api, config } = service({ QUESTDB_QUERY_TIMEOUT_MS: "1000", QUESTDB_BREAKER_THRESHOLD: "3" });
    const primed = expectOk(await api.sessions.active({ limit: 50 }));
    await proxy.addToxic(toxic.timeout(0));

    const [cached, cachedMs] = await timed(() => api.sessions.active({ limit: 50 }));
    expect(summary(cached)).toMatchObject({ status: "degraded", reason: "database_unavailable" });
    expect(cached.data).toEqual(primed.data);
    expect(cachedMs).toBeLessThan(config.QUESTDB_SOFT_DEADLINE_MS + SLACK_MS);

    const [uncached, uncachedMs] = await timed(() => api.sessions.active({ limit: 7 }));
    expect(summary(uncached)).toMatchObject({ status: "error", reason: "database_unavailable", rows: null });
    expect(uncached.status !== "ok" && uncached.message).toMatch(/^Failed to get active sessions: \S/);
    expect(uncachedMs).toBeLessThan(config.QUESTDB_DEADLINE_MS + SLACK_MS);

    await eventually(async () => (await api.sessions.active({ limit: 50 })) && s.health().questdb.breaker === "open", {
      what: "the endpoint breaker to open",
    });
    const [open, openMs] = await timed(() => api.sessions.active({ limit: 50 }));
    expect(summary(open)).toMatchObject({
      status: "degraded",
      reason: "database_unavailable",
      breaker: "open",
      retryAt: expect.any(String),
    });
    expect(open.data).toEqual(primed.data);
    expect(openMs).toBeLessThan(config.QUESTDB_SOFT_DEADLINE_MS + SLACK_MS);

    await proxy.resetToxics();
    await eventually(async () => (await api.sessions.active({ limit: 50 })).status === "ok", {
      what: "ok once the blackhole is gone",
    });
    expect(s.health().questdb.breaker).toBe("closed");
  });

  it("reset: degraded or error, with a cause naming the reset or the terminated connection", async () => {
    const { api, config } = service();
    const primed = expectOk(await api.sessions.active({ limit: 50 }));
    await proxy.addToxic(toxic.resetPeer());

    // Cached and uncached in turn, on connections open before the toxic and made after it.
    for (const limit of [50, 7, 50, 8]) {
      const [answer, ms] = await timed(() => api.sessions.active({ limit }));
      if (limit === 50) {
        expect(summary(answer)).toMatchObject({ status: "degraded", reason: "database_unavailable" });
        expect(answer.data).toEqual(primed.data);
      } else {
        expect(summary(answer)).toMatchObject({ status: "error", reason: "database_unavailable", rows: null });
      }
      expect(answer.status !== "ok" && answer.cause).toMatch(/reset|terminated/i);
      expect(answer.status !== "ok" && answer.message).toMatch(/^Failed to get active sessions: \S/);
      expect(ms).toBeLessThan(config.QUESTDB_DEADLINE_MS + SLACK_MS);
    }

    await proxy.resetToxics();
    await eventually(async () => (await api.sessions.active({ limit: 50 })).status === "ok", {
      what: "ok once the resets stop",
    });
  });

  it("connection cut in the middle of a result: never ok with part of the rows, degraded with all the cached ones or error", async () => {
    const { service: s } = service();
    const rows = 50_000; // about 800 KB on the wire
    const primed = expectOk(await sequence(s, { n: 1 }, rows));
    expect(primed.data).toHaveLength(rows);
    await proxy.addToxic(toxic.limitData(100_000));

    const answers: Array<[unknown, Resilient<Row[]>]> = [];
    for (const input of [{ n: 1 }, { n: 2 }, { n: 1 }, { n: 3 }]) answers.push([input, await sequence(s, input, rows)]);

    const seen = answers.map(([input, answer]) => ({ input, ...summary(answer) }));
    for (const [input, answer] of answers) {
      expect(answer.status, JSON.stringify(seen)).not.toBe("ok");
      if (answer.status === "degraded") {
        expect(answer.data).toHaveLength(rows);
        expect(answer.data).toEqual(primed.data);
      } else {
        expect(answer.data).toBeNull();
      }
      expect(answer.status !== "ok" && answer.message).toMatch(/^Failed to read a long sequence: \S/);
      if ((input as { n: number }).n === 1) expect(answer.status).toBe("degraded");
    }
  });
});
