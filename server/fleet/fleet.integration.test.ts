import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "@/harness/eventually";
import { findFreePort } from "@/harness/questdb-process";
import { startRedis, type RedisProcess } from "@/harness/redis-process";
import { createFleet, type Fleet } from "./fleet";
import { createFleetRedis, type FleetRedis } from "./redis-connection";
import { createLastKnownGood, type LastKnownGood } from "@/server/last-known-good/last-known-good";
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

  it("keeps the highest version: a lower or equal one never overwrites it, whatever its time", async () => {
    await a.answers.put("sessions:{}", { rows: ["newer"] }, 2, Date.now());
    expect(await b.answers.put("sessions:{}", { rows: ["older"] }, 1, Date.now())).toBe(false);
    expect(await b.answers.get("sessions:{}")).toMatchObject({ value: { rows: ["newer"] }, version: 2 });

    expect(await b.answers.put("sessions:{}", { rows: ["same version, other instance"] }, 2, Date.now())).toBe(false);
    expect(await a.answers.get("sessions:{}")).toMatchObject({ value: { rows: ["newer"] }, version: 2 });

    expect(await b.answers.put("sessions:{}", { rows: ["newest"] }, 3, Date.now())).toBe(true);
    expect(await a.answers.get("sessions:{}")).toMatchObject({ value: { rows: ["newest"] }, version: 3 });
  });

  it("gives an answer's age by Redis's clock, stores it with the TTL, and knows nothing of keys never put", async () => {
    await a.answers.put("candles:{}", [1, 2, 3], 1, Date.now());
    await sleep(200);
    const read = await b.answers.get("candles:{}");
    expect(read?.ageMs).toBeGreaterThanOrEqual(190);
    expect(read?.ageMs).toBeLessThan(1_000);
    const pttl = await a.conn.run((r) => r.pttl("test:answer:candles:{}"));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await b.answers.get("never-put")).toBeUndefined();
  });

  it("lets one instance at a time claim a key, each claim with a higher version, until released or expired", async () => {
    const first = await a.answers.claim("k", 10_000, 0);
    expect(first).toEqual({ state: "granted", version: 1 });
    expect(await b.answers.claim("k", 10_000, 0)).toEqual({ state: "held" });
    await a.answers.release("k", 1);
    // Above the caller's floor (the highest version it has seen).
    expect(await b.answers.claim("k", 10_000, 41)).toEqual({ state: "granted", version: 42 });

    // A's release of B's claim does nothing.
    await a.answers.release("k", 1);
    expect(await a.conn.run((r) => r.get("test:lock:k"))).toBe("b:42");
    expect(await a.answers.claim("k", 10_000, 0)).toEqual({ state: "held" });

    expect((await a.answers.claim("short", 200, 0)).state).toBe("granted");
    expect((await b.answers.claim("short", 200, 0)).state).toBe("held");
    await sleep(300);
    expect(await b.answers.claim("short", 200, 0)).toEqual({ state: "granted", version: 2 });
  });

  it("a claim renewed by its holder outlives its TTL; renewed by another, it does not", async () => {
    const claim = await a.answers.claim("r", 200, 0);
    expect(claim).toEqual({ state: "granted", version: 1 });
    for (let i = 0; i < 4; i++) {
      await sleep(100);
      expect(await a.answers.renew("r", 1, 200)).toBe(true);
      expect(await b.answers.renew("r", 1, 200)).toBe(false);
    }
    expect((await b.answers.claim("r", 200, 0)).state).toBe("held");
  });

  it("a publish stored over an answer of another format replaces it", async () => {
    await a.conn.run((r) => r.hset("test:answer:old", "fetchedAt", "1700000000000", "value", '"old"'));
    expect(await a.answers.put("old", "new", 1, Date.now())).toBe(true);
    expect(await a.answers.get("old")).toMatchObject({ value: "new", version: 1 });
    expect(await a.conn.run((r) => r.hget("test:answer:old", "fetchedAt"))).not.toBe("1700000000000");
  });
});

describe("last-known-good across instances: one authority orders, each ages by Redis's clock", () => {
  const redis = redisForBlock();
  /** An instance's last-known-good over the real Redis, with a clock of its own and a count of its own queries. */
  function lkgInstance(id: string, skewMs = 0): { kept: LastKnownGood; now: () => number; logged: string[] } {
    const logged: string[] = [];
    const conn = createFleetRedis({ url: redis().url, instanceId: id, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    opened.push(conn);
    const now = () => Date.now() + skewMs;
    const shared = createSharedAnswers(conn, { ttlMs: 60_000, prefix: "test:", log: (event) => logged.push(event) });
    return {
      kept: createLastKnownGood({ maxBytes: 1_000_000, dataDir: null, shared, freshForMs: 1_000, now }),
      now,
      logged,
    };
  }
  const answer =
    (value: string, now: () => number, delayMs = 0, count?: string[]) =>
    async () => {
      count?.push(value);
      await sleep(delayMs);
      return { value, fetchedAt: now() };
    };

  beforeEach(async () => {
    const admin = instance(redis().url, "admin");
    await ready(admin);
    await admin.conn.run((r) => r.flushall());
  });

  it("a slow query keeps its claim: another instance waits for its answer instead of querying too", async () => {
    const [a, b] = [lkgInstance("a"), lkgInstance("b")];
    const queries: string[] = [];
    const slow = a.kept.fetch("k", answer("from a", a.now, 1_800, queries));
    await sleep(100);
    const fromB = await b.kept.fetch("k", answer("from b", b.now, 0, queries));
    await slow;
    expect(queries).toEqual(["from a"]);
    expect(fromB.value).toBe("from a");
  });

  it("a slow query whose claim lapsed never overwrites the newer claimant's answer, though it finishes last", async () => {
    const [a, b, reader] = [lkgInstance("a"), lkgInstance("b"), lkgInstance("reader")];
    const slow = a.kept.fetch("k", answer("older rows", a.now, 600));
    await sleep(100);
    await instance(redis().url, "admin").conn.run((r) => r.del("test:lock:k")); // A's process stalled: its claim lapsed
    await b.kept.fetch("k", answer("newer rows", b.now));
    await slow;
    expect((await reader.kept.read("k", 1_000))?.value).toBe("newer rows");
    expect(a.kept.peek("k")?.value).toBe("newer rows");
  });

  it("an instance 60 s ahead: its answer is reused for the reuse window by Redis's clock, not for 60 s", async () => {
    const [ahead, b] = [lkgInstance("ahead", 60_000), lkgInstance("b")];
    const queries: string[] = [];
    await ahead.kept.fetch("k", answer("from ahead", ahead.now));
    expect((await b.kept.fetch("k", answer("from b", b.now, 0, queries))).value).toBe("from ahead");
    expect(queries).toEqual([]);
    await sleep(1_100);
    expect((await b.kept.fetch("k", answer("from b", b.now, 0, queries))).value).toBe("from b");
    expect(queries).toEqual(["from b"]);
  });

  it("an instance 60 s behind reads the fleet's answer as of its age, never stamped in its future", async () => {
    const [a, behind] = [lkgInstance("a"), lkgInstance("behind", -60_000)];
    await a.kept.fetch("k", answer("from a", a.now));
    await sleep(300);
    const read = await behind.kept.read<string>("k", 1_000);
    expect(read?.value).toBe("from a");
    expect(read!.fetchedAt).toBeLessThanOrEqual(behind.now() - 250);
    expect(read!.fetchedAt).toBeGreaterThan(behind.now() - 1_000);
  });

  it("a live loop's shorter window holds through the fleet: an answer older than the call's window is not reused", async () => {
    const [a, b] = [lkgInstance("a"), lkgInstance("b")];
    const queries: string[] = [];
    await a.kept.fetch("k", answer("from a", a.now));
    await sleep(700);
    const options = { viaFleet: true, freshForMs: 500 };
    expect((await b.kept.fetch("k", answer("from b", b.now, 0, queries), options)).value).toBe("from b");
    expect(queries).toEqual(["from b"]);
  });

  it("an entry in another format is skipped and logged once per key, never thrown", async () => {
    const admin = instance(redis().url, "admin");
    await ready(admin);
    await admin.conn.run((r) => r.hset("test:answer:bad", "fetchedAt", "not a number", "value", '"x"'));
    await admin.conn.run((r) => r.hset("test:answer:bad2", "version", "abc", "publishedAt", "1", "value", '"x"'));
    await admin.conn.run((r) =>
      r.hset("test:answer:bad3", "version", "3", "publishedAt", "1", "value", '"x"', "fetchedAt", "soon"),
    );
    const b = lkgInstance("b");
    for (let i = 0; i < 3; i++) {
      expect(await b.kept.read("bad", 1_000)).toBeUndefined();
      expect(await b.kept.read("bad2", 1_000)).toBeUndefined();
      expect(await b.kept.read("bad3", 1_000)).toBeUndefined();
    }
    expect(b.logged.filter((event) => event === "fleet.answer_invalid")).toHaveLength(3);
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
      put: await timed(() => i.answers.put("k", { rows: [] }, 1, Date.now())),
      claim: await timed(() => i.answers.claim("k", 5_000, 0)),
      renew: await timed(() => i.answers.renew("k", 1, 5_000)),
      release: await timed(() => i.answers.release("k", 1)),
      announce: await timed(() => i.breaker.announce("open", { cause: "test" })),
      claimProbe: await timed(() => i.breaker.claimProbe(5_000)),
      current: await timed(() => i.breaker.current()),
    };
  }

  function expectLocalAnswers(calls: Awaited<ReturnType<typeof everyCall>>) {
    expect(calls.get.result).toBeUndefined();
    expect(calls.claim.result).toEqual({ state: "unavailable" });
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
      await fleet!.answers.put("k", "v", 1, Date.now());
      expect(await fleet!.answers.get("k")).toMatchObject({ value: "v", version: 1 });
      await fleet!.breaker.announce("open");
      expect(await fleet!.breaker.current()).toMatchObject({ state: "open", from: "a" });
    } finally {
      fleet?.close();
      await redis.stop();
    }
  });
});
