import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "@/harness/eventually";
import { findFreePort } from "@/harness/questdb-process";
import { startRedis, type RedisProcess } from "@/harness/redis-process";
import { createFleet, type Fleet } from "./fleet";
import { createFleetRedis, type FleetRedis } from "./redis-connection";
import { createSharedAnswers, type SharedAnswers } from "@/server/last-known-good/shared-answers";
import { createSharedBreaker, type BreakerAnnouncement, type SharedBreaker } from "./shared-breaker";

/**
 * Fleet mode against a real Redis (no mocks): several instances in this process, each with its
 * own connections, share answers, locks and the breaker — and go on without Redis, each call
 * bounded, when Redis is killed or frozen, then rejoin by themselves when it is back.
 */

const COMMAND_TIMEOUT_MS = 150;
/** The contract's own limit: no request waits on Redis, and the fleet hears an announcement, within 1 s. */
const CONTRACT_LIMIT_MS = 1_000;

interface Instance {
  id: string;
  conn: FleetRedis;
  answers: SharedAnswers;
  breaker: SharedBreaker;
  events: string[];
}

const opened: FleetRedis[] = [];

function instance(url: string, id: string): Instance {
  const events: string[] = [];
  const conn = createFleetRedis({
    url,
    instanceId: id,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    log: (event) => events.push(event),
  });
  opened.push(conn);
  return {
    id,
    conn,
    events,
    answers: createSharedAnswers(conn, { ttlMs: 60_000, prefix: "test:" }),
    breaker: createSharedBreaker(conn, { prefix: "test:", channel: "test:breaker:announcements" }),
  };
}

async function ready(...instances: Instance[]): Promise<void> {
  await eventually(() => instances.every((i) => i.conn.status() === "ok"), {
    timeoutMs: 10_000,
    intervalMs: 20,
    what: "status ok",
  });
}

/** Resolves with the first announcement `listener` gets and how long after `since` it came. */
function nextAnnouncement(
  from: Instance,
  since: () => number,
): Promise<{ announcement: BreakerAnnouncement; delayMs: number }> {
  return new Promise((resolve) => {
    const stop = from.breaker.onAnnouncement((announcement) => {
      stop();
      resolve({ announcement, delayMs: performance.now() - since() });
    });
  });
}

async function timed<T>(call: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await call();
  return { result, ms: performance.now() - started };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`no ${what} within ${ms} ms`)))]);
}

afterEach(() => {
  for (const conn of opened.splice(0)) conn.close();
});

/** A Redis of its own for the enclosing describe block. */
function redisForBlock(): () => RedisProcess {
  let redis: RedisProcess | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());
  return () => redis!;
}

describe("shared answers", () => {
  const redis = redisForBlock();
  let a: Instance;
  let b: Instance;

  beforeEach(async () => {
    a = instance(redis().url, "a");
    b = instance(redis().url, "b");
    await ready(a, b);
    await a.conn.run((r) => r.flushall());
  });

  it("keeps the newest answer: an older or equal fetchedAt never overwrites it", async () => {
    await a.answers.put("sessions:{}", { rows: ["newer"] }, 200);
    await b.answers.put("sessions:{}", { rows: ["older"] }, 100);
    expect(await b.answers.get("sessions:{}")).toEqual({ value: { rows: ["newer"] }, fetchedAt: 200 });

    await b.answers.put("sessions:{}", { rows: ["same time, other instance"] }, 200);
    expect(await a.answers.get("sessions:{}")).toEqual({ value: { rows: ["newer"] }, fetchedAt: 200 });

    await b.answers.put("sessions:{}", { rows: ["newest"] }, 300);
    expect(await a.answers.get("sessions:{}")).toEqual({ value: { rows: ["newest"] }, fetchedAt: 300 });
  });

  it("stores answers with the TTL, and knows nothing of keys never put", async () => {
    await a.answers.put("candles:{}", [1, 2, 3], 1_000);
    const pttl = await a.conn.run((r) => r.pttl("test:answer:candles:{}"));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await b.answers.get("never-put")).toBeUndefined();
  });

  it("lets one instance at a time claim a key, until it releases or the lock expires", async () => {
    expect(await a.answers.claim("k", 10_000)).toBe(true);
    expect(await b.answers.claim("k", 10_000)).toBe(false);
    await a.answers.release("k");
    expect(await b.answers.claim("k", 10_000)).toBe(true);

    // A's release of B's lock does nothing.
    await a.answers.release("k");
    expect(await a.conn.run((r) => r.get("test:lock:k"))).toBe("b");
    expect(await a.answers.claim("k", 10_000)).toBe(false);

    expect(await a.answers.claim("short", 200)).toBe(true);
    expect(await b.answers.claim("short", 200)).toBe(false);
    await sleep(300);
    expect(await b.answers.claim("short", 200)).toBe(true);
  });
});

describe("shared breaker", () => {
  const redis = redisForBlock();

  it("tells the other instances within 1 s, not the announcer, and keeps the state for late joiners", async () => {
    const [a, b] = [instance(redis().url, "a"), instance(redis().url, "b")];
    const ownHeard: BreakerAnnouncement[] = [];
    a.breaker.onAnnouncement((announcement) => ownHeard.push(announcement));
    await ready(a, b);

    let sentAt = 0;
    const heard = nextAnnouncement(b, () => sentAt);
    sentAt = performance.now();
    await a.breaker.announce("open", { retryAt: 1_700_000_030_000, cause: "connection refused" });
    const { announcement, delayMs } = await withTimeout(heard, 5_000, "announcement");
    console.info(`fleet: announcement heard by the other instance after ${delayMs.toFixed(1)} ms`);

    expect(delayMs).toBeLessThan(CONTRACT_LIMIT_MS);
    expect(announcement).toMatchObject({
      state: "open",
      from: "a",
      retryAt: 1_700_000_030_000,
      cause: "connection refused",
    });
    await sleep(100);
    expect(ownHeard).toEqual([]);

    const late = instance(redis().url, "late");
    await ready(late);
    expect(await late.breaker.current()).toMatchObject({ state: "open", from: "a", cause: "connection refused" });
  });

  it("lets exactly one of three concurrent instances send the half-open probe", async () => {
    const fleet = [instance(redis().url, "a"), instance(redis().url, "b"), instance(redis().url, "c")];
    await ready(...fleet);
    const wins = await Promise.all(fleet.map((i) => i.breaker.claimProbe(5_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });
});

describe("when Redis fails", () => {
  const redis = redisForBlock();
  const unhandled: unknown[] = [];
  const collect = (error: unknown) => unhandled.push(error);

  beforeAll(() => {
    process.on("unhandledRejection", collect);
    process.on("uncaughtException", collect);
  });
  afterAll(() => {
    process.off("unhandledRejection", collect);
    process.off("uncaughtException", collect);
  });
  afterEach(async () => {
    redis().thaw();
    if (!redis().isRunning()) await redis().restart();
    expect(unhandled).toEqual([]);
  });

  /** Every call an instance makes, with what it answers when Redis is away and how long it took. */
  async function everyCall(i: Instance) {
    return {
      get: await timed(() => i.answers.get("k")),
      put: await timed(() => i.answers.put("k", { rows: [] }, Date.now())),
      claim: await timed(() => i.answers.claim("k", 5_000)),
      release: await timed(() => i.answers.release("k")),
      announce: await timed(() => i.breaker.announce("open", { cause: "test" })),
      claimProbe: await timed(() => i.breaker.claimProbe(5_000)),
      current: await timed(() => i.breaker.current()),
    };
  }

  function expectLocalAnswers(calls: Awaited<ReturnType<typeof everyCall>>) {
    expect(calls.get.result).toBeUndefined();
    expect(calls.claim.result).toBe(true);
    expect(calls.claimProbe.result).toBe(true);
    expect(calls.current.result).toBeUndefined();
    const slowest = Math.max(...Object.values(calls).map((c) => c.ms));
    expect(slowest).toBeLessThan(CONTRACT_LIMIT_MS);
    return slowest;
  }

  it("killed: every call answers locally at once, status turns unavailable; restarted: rejoins by itself", async () => {
    const [a, b] = [instance(redis().url, "a"), instance(redis().url, "b")];
    await ready(a, b);
    await redis().kill();

    const rounds = [await everyCall(a), await everyCall(a)];
    const slowest = Math.max(...rounds.map(expectLocalAnswers));
    console.info(`fleet: Redis killed — slowest call ${slowest.toFixed(1)} ms`);
    expect(a.conn.status()).toBe("unavailable");
    expect(a.events).toContain("fleet.redis_breaker_open");

    const restartedAt = performance.now();
    await redis().restart();
    await ready(a, b);
    console.info(`fleet: status ok again ${(performance.now() - restartedAt).toFixed(0)} ms after Redis restarted`);

    // B's subscription came back with its connection.
    const heard = nextAnnouncement(b, () => restartedAt);
    await a.breaker.announce("closed");
    expect((await withTimeout(heard, CONTRACT_LIMIT_MS, "announcement after restart")).announcement).toMatchObject({
      state: "closed",
      from: "a",
    });
  });

  it("frozen: every call gives up after the command timeout; thawed: back by itself", async () => {
    const [a, b] = [instance(redis().url, "a"), instance(redis().url, "b")];
    await ready(a, b);
    redis().freeze();

    const rounds = [await everyCall(a), await everyCall(a)];
    const slowest = Math.max(...rounds.map(expectLocalAnswers));
    console.info(
      `fleet: Redis frozen — slowest call ${slowest.toFixed(1)} ms (command timeout ${COMMAND_TIMEOUT_MS} ms)`,
    );
    expect(slowest).toBeLessThan(COMMAND_TIMEOUT_MS + 250);
    expect(a.conn.status()).toBe("unavailable");

    redis().thaw();
    await ready(a, b);
    const heard = nextAnnouncement(b, () => 0);
    await a.breaker.announce("closed");
    await withTimeout(heard, CONTRACT_LIMIT_MS, "announcement after thaw");
  });

  it("started while Redis is down: answers locally, then joins when Redis appears", async () => {
    const port = await findFreePort();
    const a = instance(`redis://127.0.0.1:${port}`, "a");
    const b = instance(`redis://127.0.0.1:${port}`, "b");
    const heard: BreakerAnnouncement[] = [];
    b.breaker.onAnnouncement((announcement) => heard.push(announcement));
    expectLocalAnswers(await everyCall(a));
    expect(b.conn.status()).toBe("unavailable");

    const late = await startRedis({ port });
    try {
      await ready(a, b);
      await a.breaker.announce("open", { cause: "after join" });
      await eventually(() => heard.length > 0, { timeoutMs: CONTRACT_LIMIT_MS, intervalMs: 10, what: "announcement" });
      expect(heard[0]).toMatchObject({ state: "open", cause: "after join" });
    } finally {
      await late.stop();
    }
  });
});

describe("createFleet", () => {
  it("is null without a Redis URL: each instance works on its own", () => {
    expect(createFleet({ url: undefined, instanceId: "a" })).toBeNull();
    expect(createFleet({ url: "  ", instanceId: "a" })).toBeNull();
  });

  it("composes answers and breaker over one connection", async () => {
    const redis = await startRedis();
    let fleet: Fleet | null = null;
    try {
      fleet = createFleet({ url: redis.url, instanceId: "a" });
      await eventually(() => fleet?.status() === "ok", { timeoutMs: 10_000, intervalMs: 20, what: "status ok" });
      await fleet!.answers.put("k", "v", 1);
      expect(await fleet!.answers.get("k")).toEqual({ value: "v", fetchedAt: 1 });
      await fleet!.breaker.announce("open");
      expect(await fleet!.breaker.current()).toMatchObject({ state: "open", from: "a" });
    } finally {
      fleet?.close();
      await redis.stop();
    }
  });
});
