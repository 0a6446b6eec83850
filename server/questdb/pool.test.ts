import { describe, expect, it, vi } from "vitest";
import { ClassifiedError, classifyFailure } from "./errors";
import type { QuestdbEvent } from "./events";
import { QuestdbPool, type QuestdbPoolOptions } from "./pool";
import { FakePgPool, never, queryError, refusedError, resetError } from "./testing/fake-pg-pool";
import { useFakeClock, settle } from "./testing/fake-clock";

function setup(overrides: Partial<QuestdbPoolOptions> = {}) {
  const fake = new FakePgPool();
  const events: QuestdbEvent[] = [];
  const pool = new QuestdbPool({
    connectionString: "postgresql://admin:s3cret@127.0.0.1:8812/qdb",
    max: 2,
    attemptTimeoutMs: 2_000,
    healthIntervalMs: 60_000,
    emit: (event) => events.push(event),
    createPool: fake.factory,
    ...overrides,
  });
  return { fake, pool, events };
}

useFakeClock();

describe("hardened pool", () => {
  it("returns a connection whose query failed, and destroys one whose connection failed", async () => {
    const { fake, pool } = setup();
    fake.behaviour = async () => Promise.reject(queryError());
    const bad = await settle(pool.query("SELECT nope"));
    expect(!bad.ok && classifyFailure(bad.error).kind).toBe("query_failed");
    expect(fake.clients[0]!.released).toBe("returned");

    fake.behaviour = async () => Promise.reject(resetError());
    const reset = await settle(pool.query("SELECT 1"));
    expect(!reset.ok && reset.error).toBeInstanceOf(ClassifiedError);
    expect(!reset.ok && classifyFailure(reset.error).cause).toBe("connection reset by peer (127.0.0.1:8812)");
    expect(fake.clients[0]!.released).toBe("destroyed");
    expect(fake.clients[0]!.destroyedWith).toBeInstanceOf(Error);
  });

  it("asks pg for idle expiry and connection recycling, and never for a query timeout of its own", () => {
    const { fake } = setup();
    expect(fake.config).toMatchObject({
      idleTimeoutMillis: 30_000,
      maxLifetimeSeconds: 300,
      max: 2,
      connectionTimeoutMillis: 2_000,
    });
    expect(fake.config).not.toHaveProperty("query_timeout");
  });

  it("a query past the attempt limit while QuestDB answers others is slow: its connection is closed, not returned", async () => {
    const { fake, pool } = setup();
    fake.behaviour = async (sql) => (sql === "SELECT heavy" ? never() : [{ one: 1 }]);
    const heavy = settle(pool.query("SELECT heavy"));
    await vi.advanceTimersByTimeAsync(500);
    await pool.query("SELECT light"); // QuestDB answers another query meanwhile
    await vi.advanceTimersByTimeAsync(1_500);
    const result = await heavy;
    expect(!result.ok && classifyFailure(result.error)).toMatchObject({
      kind: "slow_call",
      cause: "query slow: no answer within 2000 ms while QuestDB answers other queries",
    });
    const heavyClient = fake.clients.find((c) => c.queries.includes("SELECT heavy"))!;
    expect(heavyClient.released).toBe("destroyed");
    expect(heavyClient.connection.stream.destroyed).toBe(true);
  });

  it("a query past the attempt limit when nothing answers, not even a probe, is a connection timeout", async () => {
    const { fake, pool } = setup();
    fake.behaviour = () => never();
    const frozen = settle(pool.query("SELECT 1"));
    await vi.advanceTimersByTimeAsync(2_000);
    // The probe gets one second of its own.
    await vi.advanceTimersByTimeAsync(1_000);
    const result = await frozen;
    expect(!result.ok && classifyFailure(result.error)).toMatchObject({
      kind: "connection_timeout",
      cause: "attempt timed out after 2000 ms (127.0.0.1:8812)",
    });
  });

  it("an answer to a request sent before the attempt does not make it slow: the link may have gone dark since", async () => {
    const { fake, pool } = setup();
    let answerEarly: (rows: Record<string, unknown>[]) => void = () => undefined;
    fake.behaviour = (sql) => (sql === "SELECT early" ? new Promise((resolve) => (answerEarly = resolve)) : never());
    const early = pool.query("SELECT early"); // sent before, answered after the attempt begins
    await vi.advanceTimersByTimeAsync(10);
    const attempt = settle(pool.query("SELECT heavy"));
    await vi.advanceTimersByTimeAsync(10);
    answerEarly([{ one: 1 }]);
    await early;
    await vi.advanceTimersByTimeAsync(3_000); // the attempt limit, then the probe's own second
    const result = await attempt;
    expect(!result.ok && classifyFailure(result.error).kind).toBe("connection_timeout");
  });

  it("a query past the attempt limit is called slow when a probe answers, though nothing else ran", async () => {
    const { fake, pool } = setup();
    fake.behaviour = async (sql) => (sql === "SELECT 1" ? [{ one: 1 }] : never());
    const heavy = settle(pool.query("SELECT heavy"));
    await vi.advanceTimersByTimeAsync(2_000);
    const result = await heavy;
    expect(!result.ok && classifyFailure(result.error).kind).toBe("slow_call");
  });

  it("a connect past the attempt limit holds its slot until the late connection is closed", async () => {
    const { fake, pool } = setup({ max: 1, maxWaitMs: 10_000 });
    let connected!: () => void;
    fake.connectWith = () => new Promise<void>((resolve) => (connected = resolve));
    const first = settle(pool.query("SELECT 1"));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(!(await first).ok && classifyFailure(((await first) as { error: unknown }).error).kind).toBe(
      "connection_timeout",
    );
    // The only slot is still held: a second query waits for it.
    fake.connectWith = async () => undefined;
    const second = settle(pool.query("SELECT 2"));
    await vi.advanceTimersByTimeAsync(100);
    expect(fake.clients.some((c) => c.queries.includes("SELECT 2"))).toBe(false);
    connected(); // the late connection arrives: closed at once, and the slot passes on
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.clients[0]!.released).toBe("destroyed");
    expect((await second).ok).toBe(true);
  });

  it("bounds the queue for a connection in length and in time; neither is a QuestDB failure", async () => {
    const { fake, pool } = setup({ max: 1, maxQueued: 1, maxWaitMs: 500 });
    fake.behaviour = async (sql) =>
      sql === "SELECT slow" ? new Promise((r) => setTimeout(() => r([{}]), 1_000)) : [{}];
    const running = settle(pool.query("SELECT slow"));
    const queued = settle(pool.query("SELECT 1"));
    const full = await settle(pool.query("SELECT 1"));
    expect(!full.ok && classifyFailure(full.error)).toMatchObject({ kind: "pool_busy" });
    expect(!full.ok && classifyFailure(full.error).cause).toMatch(/^too many queries waiting for a connection/);
    await vi.advanceTimersByTimeAsync(500);
    const waited = await queued;
    expect(!waited.ok && classifyFailure(waited.error).cause).toBe("no free connection within 500 ms (127.0.0.1:8812)");
    await vi.advanceTimersByTimeAsync(500);
    expect((await running).ok).toBe(true);
  });

  it("checks health with one SELECT 1 per interval, however many connections sit idle", async () => {
    const { fake, pool, events } = setup({ max: 4, healthIntervalMs: 2_000 });
    await Promise.all([pool.query("SELECT a"), pool.query("SELECT b"), pool.query("SELECT c")]);
    expect(fake.idleCount).toBe(3);
    await vi.advanceTimersByTimeAsync(2_000);
    const probes = fake.clients.flatMap((c) => c.queries).filter((q) => q === "SELECT 1");
    expect(probes).toHaveLength(1);
    expect(events).toContainEqual({ type: "health_checked", ok: true });
    await pool.close();
  });

  it("a failed health check is tried once more on a fresh connection before QuestDB is called unreachable", async () => {
    const { fake, pool, events } = setup();
    fake.behaviour = async () => Promise.reject(resetError());
    expect(await pool.checkHealth()).toBe(false);
    expect(fake.clients.flatMap((c) => c.queries)).toEqual(["SELECT 1", "SELECT 1"]);
    expect(events).toContainEqual(expect.objectContaining({ type: "health_check_failed", answered: false }));
    expect(pool.health()).toMatchObject({
      reachable: false,
      lastError: "Failed to run the health check: connection reset by peer (127.0.0.1:8812)",
      lastErrorAt: expect.any(Date),
    });

    let calls = 0;
    fake.behaviour = async () => (++calls === 1 ? Promise.reject(resetError()) : [{ one: 1 }]);
    expect(await pool.checkHealth()).toBe(true);
    expect(pool.health().reachable).toBe(true);
  });

  it("the health probe takes a free slot or none: a pool busy to its limit is not probed", async () => {
    const { fake, pool } = setup({ max: 1 });
    fake.behaviour = async (sql) =>
      sql === "SELECT busy" ? new Promise((r) => setTimeout(() => r([{}]), 1_000)) : [{}];
    const busy = pool.query("SELECT busy");
    expect(await pool.checkHealth()).toBeNull();
    await vi.advanceTimersByTimeAsync(1_000);
    await busy;
    expect(await pool.checkHealth()).toBe(true);
  });

  it("never names the password, and names the endpoint when the error does not", async () => {
    const { fake, pool } = setup();
    fake.connectWith = async () =>
      Promise.reject(
        Object.assign(new Error("password authentication failed: s3cret"), { code: "28P01", severity: "FATAL" }),
      );
    const rejected = await settle(pool.query("SELECT 1"));
    const info = !rejected.ok ? classifyFailure(rejected.error) : null;
    expect(info?.kind).toBe("credentials_rejected");
    expect(info?.cause).not.toContain("s3cret");
    expect(info?.cause).toMatch(/^credentials rejected: .*\(127\.0\.0\.1:8812\)$/);
    fake.connectWith = async () => Promise.reject(refusedError());
    expect(
      pool.describe("get active sessions", ((await settle(pool.query("SELECT 1"))) as { error: unknown }).error),
    ).toBe("Failed to get active sessions: connection refused (127.0.0.1:8812)");
  });
});
