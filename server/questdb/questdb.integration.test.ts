import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { QuestdbProcess, findFreePort, startTestQuestdb } from "@/harness/questdb-process";
import { seedDemoData } from "@/demo/seed";
import { eventually } from "@/harness/eventually";
import { parseEnv } from "@/server/env";
import { createMetrics } from "@/server/observability/metrics";
import { createCaller } from "@/server/root";
import { createContextInner } from "@/server/trpc";
import { FRESH_FOR_MS, createQuestdbService, type QuestdbService } from "@/server/compose";

/**
 * The resilient layer against a real QuestDB that this file starts, kills (SIGKILL), freezes
 * (SIGSTOP) and restarts. Nothing is mocked. Timings are written to test-results/ for the notes.
 */

const silent = pino({ level: "silent" });
const measured: Record<string, number> = {};

let questdb: QuestdbProcess;
const services: QuestdbService[] = [];

function service(pgUrl: string, overrides: Record<string, string> = {}) {
  const s = createQuestdbService(
    parseEnv({
      QUESTDB_URL: pgUrl,
      QUESTDB_HEALTH_INTERVAL_MS: "500",
      ...overrides,
    }),
    { log: silent, metrics: createMetrics(new Registry()), dataDir: null },
  );
  services.push(s);
  return { service: s, api: createCaller(createContextInner({ questdb: s })) };
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await work();
  return [value, Math.round(performance.now() - start)];
}

beforeAll(async () => {
  questdb = await startTestQuestdb();
  await seedDemoData({ pgUrl: questdb.pgUrl, httpUrl: questdb.httpUrl });
});

afterEach(async () => {
  // Every test leaves QuestDB up for the next one.
  questdb.thaw();
  if (!questdb.isRunning()) await questdb.restart();
  await Promise.all(services.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await questdb?.stop();
  if (questdb)
    for (const dir of [questdb.dataDir, `${questdb.dataDir}-late`]) rmSync(dir, { recursive: true, force: true });
  mkdirSync("test-results", { recursive: true });
  writeFileSync("test-results/integration-measurements.json", JSON.stringify(measured, null, 2));
});

describe("against a real QuestDB", () => {
  it("answers ok with the seeded active sessions, newest first, and candles", async () => {
    const { api } = service(questdb.pgUrl);
    const sessions = await api.sessions.active();
    expect(sessions.status).toBe("ok");
    if (sessions.status !== "ok") return;
    expect(sessions.data.length).toBeGreaterThanOrEqual(5);
    const started = sessions.data.map((s) => s.startedAt);
    expect([...started].sort().reverse()).toEqual(started);
    expect(new Set(sessions.data.map((s) => s.sessionId)).size).toBe(sessions.data.length);

    const candles = await api.market.candles({ symbol: "ETH-USD", interval: "5m", limit: 50 });
    expect(candles.status).toBe("ok");
    if (candles.status !== "ok") return;
    expect(candles.data.length).toBeGreaterThan(10);
    for (const c of candles.data) expect(c.low).toBeLessThanOrEqual(Math.min(c.open, c.close));
  });

  it("SIGKILL: degraded with the same rows and a cachedAt from before the kill; an input never fetched is an error; restart brings ok back", async () => {
    const { api, service: s } = service(questdb.pgUrl);
    const before = await api.sessions.active({ limit: 50 });
    expect(before.status).toBe("ok");
    const killedAt = Date.now();
    await questdb.kill();
    // A success under a second old is reused as is (FRESH_FOR_MS); ask after that window.
    await new Promise((resolve) => setTimeout(resolve, FRESH_FOR_MS - (Date.now() - killedAt) + 10));

    const [after, killToAnswerMs] = await timed(() => api.sessions.active({ limit: 50 }));
    measured.killToDegradedMs = killToAnswerMs;
    expect(after.status).toBe("degraded");
    if (after.status !== "degraded" || before.status !== "ok") return;
    expect(after.data).toEqual(before.data);
    expect(new Date(after.cachedAt).getTime()).toBeLessThanOrEqual(killedAt);
    expect(after.cachedAt).toBe(before.fetchedAt);
    expect(after.reason).toBe("database_unavailable");
    expect(after.message).toMatch(
      /^Failed to get active sessions: (connection refused|connection reset|Connection terminated)/i,
    );

    const never = await api.sessions.active({ limit: 7 });
    expect(never).toMatchObject({ status: "error", data: null, reason: "database_unavailable" });
    expect(never.status === "error" && never.message).toMatch(/^Failed to get active sessions: .+/);

    // Keep asking until the breaker opens: it fails fast from then on.
    await eventually(
      async () =>
        (await api.sessions.active({ limit: 50 })).status === "degraded" && s.health().questdb.breaker === "open",
      {
        what: "the breaker to open",
      },
    );
    const [openAnswer, openMs] = await timed(() => api.sessions.active({ limit: 50 }));
    measured.breakerOpenAnswerMs = openMs;
    expect(openAnswer).toMatchObject({ status: "degraded", breaker: "open" });
    expect(openAnswer.status === "degraded" && openAnswer.retryAt).toBeTruthy();

    await questdb.restart();
    const back = Date.now();
    // The health check sees QuestDB answer and probes by itself: the breaker closes with no caller.
    await eventually(() => s.health().questdb.breaker === "closed", {
      what: "the breaker to close without traffic",
      intervalMs: 50,
    });
    measured.returnToBreakerClosedMs = Date.now() - back;
    const fresh = await eventually(
      async () => {
        const answer = await api.sessions.active({ limit: 50 });
        return answer.status === "ok" ? answer : undefined;
      },
      { what: "ok after the restart", intervalMs: 50 },
    );
    measured.returnToOkMs = Date.now() - back;
    expect(new Date(fresh.fetchedAt).getTime()).toBeGreaterThan(killedAt);
    expect(s.health().questdb.breaker).toBe("closed");
  });

  it("SIGSTOP: a frozen QuestDB still gets the caller an answer within the deadline; SIGCONT → ok", async () => {
    const { api } = service(questdb.pgUrl, { QUESTDB_QUERY_TIMEOUT_MS: "1000", QUESTDB_DEADLINE_MS: "1500" });
    expect((await api.sessions.active()).status).toBe("ok");
    questdb.freeze();
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the fresh-reuse window
    const [frozen, frozenMs] = await timed(() => api.sessions.active());
    measured.freezeToAnswerMs = frozenMs;
    expect(frozen.status).toBe("degraded");
    // The deadline (1.5 s) plus slack; without it the 1 s attempt limit and three retries take > 4 s.
    expect(frozenMs).toBeLessThan(1500 + 1000);
    expect(frozen.status === "degraded" && frozen.message).toMatch(
      /^Failed to get active sessions: .*(deadline|timed out|timeout)/i,
    );

    questdb.thaw();
    await eventually(async () => (await api.sessions.active()).status === "ok", { what: "ok after SIGCONT" });
  });

  it("QuestDB killed while connections sit idle: the process lives, the dead connections are evicted", async () => {
    const { api, service: s } = service(questdb.pgUrl, { QUESTDB_POOL_MAX: "4" });
    await Promise.all([
      api.sessions.active({ limit: 1 }),
      api.sessions.active({ limit: 2 }),
      api.market.candles({ symbol: "BTC-USD", interval: "1m" }),
    ]);
    expect(s.health().questdb.pool.idle).toBeGreaterThan(0);
    await questdb.kill();
    await eventually(() => s.health().questdb.pool.idle === 0, { what: "idle connections evicted" });
    expect(s.health()).toMatchObject({
      status: "degraded",
      questdb: { lastError: expect.stringMatching(/^Failed to .+/) },
    });
    await questdb.restart();
    await eventually(() => s.health().questdb.pool.idle > 0 && s.health().status === "ok", {
      what: "a healthy connection again",
    });
  });

  it("a failing query is error / query_failed, never retried, and leaves the breaker closed", async () => {
    const { service: s } = service(questdb.pgUrl, { QUESTDB_BREAKER_THRESHOLD: "2" });
    for (let i = 0; i < 5; i++) {
      const answer = await s.run({
        operation: "test.bad_query",
        action: "read a table that does not exist",
        input: { i },
        query: { sql: "SELECT * FROM no_such_table WHERE x = $1", params: [i], map: (rows) => rows },
      });
      expect(answer).toMatchObject({ status: "error", reason: "query_failed", breaker: "closed" });
      expect(answer.status === "error" && answer.message).toMatch(
        /^Failed to read a table that does not exist: query failed: .*no_such_table/,
      );
    }
    expect(s.health().questdb.breaker).toBe("closed");
  });

  it("started while QuestDB is down: error, then ok once QuestDB comes up, with no restart of the app", async () => {
    const pgPort = await findFreePort();
    const { api } = service(`postgresql://admin:quest@127.0.0.1:${pgPort}/qdb`);
    const down = await api.sessions.active();
    expect(down).toMatchObject({ status: "error", reason: "database_unavailable" });
    expect(down.status === "error" && down.message).toBe(
      `Failed to get active sessions: connection refused (127.0.0.1:${pgPort})`,
    );

    const late = await QuestdbProcess.start({
      dataDir: `${questdb.dataDir}-late`,
      pgPort,
      httpPort: await findFreePort(),
    });
    try {
      await seedDemoData({ pgUrl: late.pgUrl, httpUrl: late.httpUrl });
      const up = Date.now();
      await eventually(async () => (await api.sessions.active()).status === "ok", {
        what: "ok once QuestDB is up",
        intervalMs: 50,
      });
      measured.coldStartToOkMs = Date.now() - up;
    } finally {
      await late.stop();
    }
  });
});

describe("a restart during an outage (the embedded snapshot)", () => {
  it("answers degraded with the original cachedAt, from the snapshot the previous run left on disk", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "lkg-"));
    try {
      const first = createQuestdbService(parseEnv({ QUESTDB_URL: questdb.pgUrl }), {
        log: silent,
        metrics: createMetrics(new Registry()),
        dataDir,
      });
      const before = await createCaller(createContextInner({ questdb: first })).sessions.active({ limit: 100 });
      expect(before.status).toBe("ok");
      await first.close(); // the app goes down (its snapshot is written on the way)
      await questdb.kill(); // …and QuestDB too, before the app comes back

      const { api } = service(questdb.pgUrl, {});
      const empty = await api.sessions.active({ limit: 100 });
      expect(empty.status).toBe("error"); // a run without the snapshot has nothing to show

      const second = createQuestdbService(parseEnv({ QUESTDB_URL: questdb.pgUrl }), {
        log: silent,
        metrics: createMetrics(new Registry()),
        dataDir,
      });
      services.push(second);
      const after = await createCaller(createContextInner({ questdb: second })).sessions.active({ limit: 100 });
      expect(after).toMatchObject({ status: "degraded", reason: "database_unavailable" });
      expect(after.status === "degraded" && after.cachedAt).toBe(before.status === "ok" && before.fetchedAt);
      expect(after.data).toEqual(before.status === "ok" ? before.data : null);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("a corrupt snapshot is logged once and ignored: the app starts and answers", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "lkg-"));
    try {
      writeFileSync(path.join(dataDir, "last-known-good.json"), "{ not json");
      const lines: string[] = [];
      const log = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
      const s = createQuestdbService(parseEnv({ QUESTDB_URL: questdb.pgUrl }), {
        log,
        metrics: createMetrics(new Registry()),
        dataDir,
      });
      services.push(s);
      expect((await createCaller(createContextInner({ questdb: s })).sessions.active({ limit: 3 })).status).toBe("ok");
      const unreadable = lines.filter((l) => l.includes("store.unreadable"));
      expect(unreadable).toHaveLength(1);
      expect(JSON.parse(unreadable[0]!).error).toMatch(/\S/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
