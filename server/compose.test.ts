import pino from "pino";
import { Registry } from "prom-client";
import { describe, expect, it, vi } from "vitest";
import { createMetrics } from "@/server/observability/metrics";
import { activeSessionsQuery } from "@/server/questdb/queries";
import { useFakeClock } from "@/server/questdb/testing/fake-clock";
import { FakePgPool, refusedError } from "@/server/questdb/testing/fake-pg-pool";
import { composeQuestdb, createQuestdbService, type ServiceDeps } from "./compose";
import { parseEnv } from "./env";

const silent = pino({ level: "silent" });
const sessions = {
  operation: "sessions.active",
  action: "get active sessions",
  input: { limit: 5 },
  query: activeSessionsQuery(5),
};

function setup(deps: ServiceDeps = {}) {
  const fake = new FakePgPool();
  const config = parseEnv({
    QUESTDB_URL: "postgresql://admin:quest@127.0.0.1:8812/qdb",
    QUESTDB_RETRY_DELAYS_MS: "",
    QUESTDB_BREAKER_THRESHOLD: "2",
    QUESTDB_HEALTH_INTERVAL_MS: "2000",
  });
  const service = composeQuestdb(config, {
    log: silent,
    metrics: createMetrics(new Registry()),
    createPool: fake.factory,
    dataDir: null,
    ...deps,
  });
  return { fake, service };
}

async function openTheBreaker(fake: FakePgPool, run: () => Promise<unknown>) {
  fake.connectWith = async () => Promise.reject(refusedError());
  for (let i = 0; i < 2; i++) {
    const answer = run();
    await vi.advanceTimersByTimeAsync(3_000); // the retries and the deadline
    await answer;
  }
}

useFakeClock();

describe("the composition root (the QuestDB service)", () => {
  it("a health check that sees QuestDB answer closes the endpoint breaker by itself, with no caller", async () => {
    const { fake, service } = setup();
    await openTheBreaker(fake, () => service.run({ ...sessions, input: { limit: Math.random() } }));
    expect(service.health().questdb.breaker).toBe("open");
    fake.connectWith = async () => undefined;
    await vi.advanceTimersByTimeAsync(2_000); // next health check → release → probe
    expect(service.health()).toMatchObject({ status: "ok", questdb: { breaker: "closed" } });
    await service.close();
  });

  it("without the early release (the benchmark's seed design) the breaker waits its whole recovery time", async () => {
    const { fake, service } = setup({ earlyBreakerRelease: false });
    await openTheBreaker(fake, () => service.run({ ...sessions, input: { limit: Math.random() } }));
    fake.connectWith = async () => undefined;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(service.health().questdb.breaker).toBe("open");
    await service.close();
  });

  it("health is read from memory: the breaker, the pool's counts, the last error in words", async () => {
    const { fake, service } = setup();
    await openTheBreaker(fake, () => service.run({ ...sessions, input: { limit: Math.random() } }));
    expect(service.health()).toEqual({
      status: "degraded",
      questdb: {
        breaker: "open",
        pool: { total: 1, idle: 1, waiting: 0 }, // the start-up health check's connection
        lastSuccessAt: expect.any(String),
        lastError: expect.stringMatching(/^Failed to .+: connection refused \(127\.0\.0\.1:8812\)$/),
        lastErrorAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      },
    });
    await service.close();
  });

  it("health is ok only with the breaker closed and QuestDB answering", async () => {
    const { fake, service } = setup();
    await vi.advanceTimersByTimeAsync(0); // the start-up health check answers
    expect(service.health().status).toBe("ok");
    fake.behaviour = async () => Promise.reject(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
    fake.connectWith = async () => Promise.reject(refusedError());
    await vi.advanceTimersByTimeAsync(10);
    const checked = service.pool.checkHealth();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await checked).toBe(false);
    expect(service.health()).toMatchObject({ status: "degraded", questdb: { breaker: "closed" } });
    await service.close();
  });

  it("hands routers run, live, health, timeline and close only", async () => {
    const fake = new FakePgPool();
    const service = createQuestdbService(parseEnv({}), {
      log: silent,
      metrics: createMetrics(new Registry()),
      createPool: fake.factory,
      dataDir: null,
    });
    expect(Object.keys(service).sort()).toEqual(["close", "endpoint", "health", "live", "run", "timeline"]);
    await service.close();
  });

  it("while the change detector cannot vouch for its tables, a live topic asks QuestDB on every tick — the previous tick's answer is not reused — once for all its subscribers", async () => {
    const fake = new FakePgPool();
    // A period under the service's reuse window (1 s): reused, every other tick would not ask.
    const config = parseEnv({ QUESTDB_RETRY_DELAYS_MS: "", LIVE_INTERVAL_MS: "900" });
    const service = createQuestdbService(config, {
      log: silent,
      metrics: createMetrics(new Registry()),
      createPool: fake.factory,
      dataDir: null,
    });
    const topicQueries = () =>
      fake.clients.flatMap((client) => client.queries).filter((sql) => sql === sessions.query.sql).length;
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const streams = controllers.map((controller) =>
      service.live(sessions, undefined, controller.signal)[Symbol.asyncIterator](),
    );
    const firsts = streams.map((stream) => stream.next());
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all(firsts);
    const before = topicQueries();
    await vi.advanceTimersByTimeAsync(4_500);
    const perTick = topicQueries() - before;
    expect(perTick).toBeGreaterThanOrEqual(4);
    expect(perTick).toBeLessThanOrEqual(5);
    for (const controller of controllers) controller.abort();
    await Promise.all(streams.map((stream) => stream.return?.(undefined)));
    await service.close();
  });

  it("a restarted instance with nothing on disk still versions its answers above the ones it gave before", async () => {
    // A browser keeps the highest version it was shown and ignores lower ones: a restart that
    // counted from 1 again would pin the page on old rows called fresh.
    const first = setup();
    const before = await first.service.run(sessions);
    await first.service.close();
    await vi.advanceTimersByTimeAsync(1_000);
    const second = setup();
    const after = await second.service.run(sessions);
    await second.service.close();
    expect(before.status).toBe("ok");
    expect(after.status).toBe("ok");
    if (before.status !== "ok" || after.status !== "ok") return;
    expect(after.version).toBeGreaterThan(before.version!);
  });
});
