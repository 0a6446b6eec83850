import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLastKnownGood } from "@/server/last-known-good/last-known-good";
import { PoolBusyError, SlowCallError, toClassifiedError } from "./errors";
import type { QuestdbEvent } from "./events";
import { createQuestdbPolicy } from "./policy";
import type { PreparedQuery } from "./queries";
import { createResilientQuery, type QueryTarget, type QuerySpec } from "./resilient-query";
import { refusedDegraded, refusedError } from "./testing/answers";
import { expectSettledAt } from "./testing/fake-clock";

const refused = () =>
  Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8812"), {
    code: "ECONNREFUSED",
    address: "127.0.0.1",
    port: 8812,
  });

/** A QuestDB stand-in whose next answers the test decides; unit tests only (integration tests use the real one). */
function fakeTarget() {
  let behaviour: () => Promise<Record<string, unknown>[]> = async () => [{ n: 1 }];
  let lastAnswerAt = 0;
  const calls: string[] = [];
  const target: QueryTarget & {
    calls: string[];
    answer(fn: () => Promise<Record<string, unknown>[]>): void;
    answeredElsewhere(): void;
  } = {
    endpoint: "127.0.0.1:8812",
    calls,
    answer(fn) {
      behaviour = fn;
    },
    // As the pool does, the target classifies its own failures (with its endpoint, without secrets).
    query: async (sql) => {
      calls.push(sql);
      const rows = await behaviour().catch((error: unknown) => {
        throw toClassifiedError(error, { endpoint: "127.0.0.1:8812", secrets: ["quest"] });
      });
      lastAnswerAt = Date.now();
      return rows;
    },
    /** Another panel's query answered just now. */
    answeredElsewhere() {
      lastAnswerAt = Date.now();
    },
    answeredSince: (since) => lastAnswerAt >= since,
  };
  return target;
}

const query: PreparedQuery<number[]> = {
  sql: "SELECT n FROM t WHERE x = $1",
  params: [1],
  map: (rows) => rows.map((r) => Number(r.n)),
};
const spec = (input: unknown = { limit: 10 }): QuerySpec<number[]> => ({
  operation: "sessions.active",
  action: "get active sessions",
  input,
  query,
});

function setup(
  overrides: {
    deadlineMs?: number;
    freshForMs?: number;
    retryDelaysMs?: number[];
    staleAfterMs?: number;
    softDeadlineMs?: number;
  } = {},
) {
  const target = fakeTarget();
  const events: QuestdbEvent[] = [];
  const emit = (event: QuestdbEvent) => events.push(event);
  const policy = createQuestdbPolicy({
    retryDelaysMs: overrides.retryDelaysMs ?? [100, 500, 1000],
    breakerThreshold: 5,
    breakerRecoveryMs: 30_000,
    emit,
  });
  const answers = createLastKnownGood({
    maxBytes: 1_000_000,
    dataDir: null,
    freshForMs: overrides.freshForMs ?? 1_000,
  });
  const run = createResilientQuery({
    target,
    policy,
    answers,
    deadlineMs: overrides.deadlineMs ?? 3_000,
    staleAfterMs: overrides.staleAfterMs ?? 250,
    softDeadlineMs: overrides.softDeadlineMs ?? 1_000,
    freshForMs: overrides.freshForMs ?? 1_000,
    emit,
  });
  return { target, events, policy, run, answers };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-11-27T12:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
});

describe("resilient query", () => {
  it("carries the kept answer's version; a time in the future is shown as now and ages from now", async () => {
    const { run, target, answers } = setup();
    const key = 'sessions.active:{"limit":10}';
    answers.keep(key, { value: [9], fetchedAt: Date.now() + 60_000, version: 3 });
    expect(await run(spec())).toEqual({ status: "ok", data: [9], fetchedAt: "2026-11-27T12:00:00.000Z", version: 3 });
    expect(target.calls).toHaveLength(0);
    vi.setSystemTime(new Date("2026-11-27T12:00:01.100Z"));
    target.answer(async () => Promise.reject(refused()));
    const pending = run(spec());
    await vi.advanceTimersByTimeAsync(2_000);
    // Past the window the query is made (not 60 s later), and the degraded answer is as of "now" then.
    expect(target.calls.length).toBeGreaterThan(0);
    expect(await pending).toMatchObject({ status: "degraded", cachedAt: "2026-11-27T12:00:00.000Z", version: 3 });
  });

  it("answers ok with the data and when it was fetched", async () => {
    const { run } = setup();
    expect(await run(spec())).toEqual({ status: "ok", data: [1], fetchedAt: "2026-11-27T12:00:00.000Z", version: 1 });
  });

  it("serves the last good data as degraded, with when it was cached, once QuestDB is unreachable", async () => {
    const { run, target } = setup();
    await run(spec());
    vi.setSystemTime(new Date("2026-11-27T12:00:05Z"));
    target.answer(async () => Promise.reject(refused()));
    const pending = run(spec());
    await vi.advanceTimersByTimeAsync(2_000);
    const answer = await pending;
    expect(answer).toMatchObject(refusedDegraded([1], "2026-11-27T12:00:00.000Z", "closed"));
  });

  it("answers error / database_unavailable when nothing is cached for that input", async () => {
    const { run, target } = setup();
    await run(spec({ limit: 10 }));
    target.answer(async () => Promise.reject(refused()));
    const pending = run(spec({ limit: 20 }));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await pending).toEqual(refusedError);
  });

  it("answers error / query_failed for a query failure, even with cached data, and does not retry it", async () => {
    const { run, target, policy } = setup({ freshForMs: 0 });
    await run(spec());
    target.calls.length = 0;
    target.answer(async () =>
      Promise.reject(Object.assign(new Error("Invalid column: nope"), { severity: "ERROR", code: "00000" })),
    );
    const answer = await run(spec());
    expect(answer).toMatchObject({
      status: "error",
      reason: "query_failed",
      message: "Failed to get active sessions: query failed: Invalid column: nope",
      cause: "query failed: Invalid column: nope",
    });
    expect(target.calls).toHaveLength(1);
    expect(policy.breakerState()).toBe("closed");
  });

  it("shares one query among identical concurrent calls (single-flight)", async () => {
    const { run, target, events } = setup();
    let release!: () => void;
    target.answer(() => new Promise((resolve) => (release = () => resolve([{ n: 7 }]))));
    const answers = Array.from({ length: 50 }, () => run(spec()));
    await vi.advanceTimersByTimeAsync(1);
    release();
    const settled = await Promise.all(answers);
    expect(target.calls).toHaveLength(1);
    expect(settled.every((a) => a.status === "ok" && a.data[0] === 7)).toBe(true);
    expect(events.filter((e) => e.type === "single_flight_joined")).toHaveLength(49);
    expect(events.filter((e) => e.type === "query_started")).toHaveLength(1);
  });

  it("reuses a success younger than freshForMs, then asks QuestDB again", async () => {
    const { run, target } = setup({ freshForMs: 1_000 });
    await run(spec());
    await vi.advanceTimersByTimeAsync(999);
    await run(spec());
    expect(target.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await run(spec());
    expect(target.calls).toHaveLength(2);
  });

  it("keys the cache by input: different inputs never share data", async () => {
    const { run, target } = setup();
    target.answer(async () => [{ n: 1 }]);
    await run(spec({ limit: 1 }));
    target.answer(async () => [{ n: 2 }]);
    const other = await run(spec({ limit: 2 }));
    expect(other).toMatchObject({ status: "ok", data: [2] });
    expect(await run(spec({ limit: 1 }))).toMatchObject({ status: "ok", data: [1] });
  });

  it("with data cached, a hanging QuestDB is answered at the soft deadline, and the late result refreshes the cache", async () => {
    const { run, target } = setup({ freshForMs: 0 });
    await run(spec());
    let release!: () => void;
    target.answer(() => new Promise((resolve) => (release = () => resolve([{ n: 42 }]))));
    vi.setSystemTime(new Date("2026-11-27T12:00:10Z"));
    const pending = run(spec());
    await expectSettledAt(pending, 1_000);
    expect(await pending).toMatchObject({
      status: "degraded",
      data: [1],
      message: "Failed to get active sessions: no answer within the 1000 ms deadline (127.0.0.1:8812)",
    });
    release();
    await vi.advanceTimersByTimeAsync(0);
    target.answer(() => new Promise(() => undefined));
    const next = run(spec());
    await vi.advanceTimersByTimeAsync(1_000);
    // The background attempt finished after the caller was answered: its data is what is served now.
    expect(await next).toMatchObject({ status: "degraded", data: [42], cachedAt: "2026-11-27T12:00:11.000Z" });
  });

  it("past the soft deadline, a query is called slow — not QuestDB down — when QuestDB answered other queries meanwhile", async () => {
    const { run, target } = setup({ freshForMs: 0 });
    await run(spec());
    target.answer(() => new Promise(() => undefined));
    const pending = run(spec());
    await vi.advanceTimersByTimeAsync(500);
    target.answeredElsewhere();
    await vi.advanceTimersByTimeAsync(500);
    expect(await pending).toMatchObject({
      status: "degraded",
      reason: "query_slow",
      cause: "query slow: no answer within 1000 ms while QuestDB answers other queries",
    });
  });

  it("with nothing cached, a hanging QuestDB is answered at the full deadline", async () => {
    const { run, target } = setup({ deadlineMs: 3_000 });
    target.answer(() => new Promise(() => undefined));
    const pending = run(spec());
    await expectSettledAt(pending, 3_000);
    expect(await pending).toMatchObject({
      status: "error",
      reason: "database_unavailable",
      message: "Failed to get active sessions: no answer within the 3000 ms deadline (127.0.0.1:8812)",
    });
  });

  it("with data cached, the caller gets degraded staleAfterMs after the first refusal while retries go on and refresh the cache", async () => {
    const { run, target, events } = setup({ freshForMs: 0, staleAfterMs: 250 });
    await run(spec());
    let refusals = 0;
    target.answer(async () => (++refusals < 3 ? Promise.reject(refused()) : [{ n: 9 }]));
    const started = Date.now();
    const answer = await Promise.race([run(spec()), vi.advanceTimersByTimeAsync(250).then(() => "not yet")]);
    expect(answer).toMatchObject({ status: "degraded", data: [1], cause: "connection refused (127.0.0.1:8812)" });
    expect(Date.now() - started).toBe(250);
    expect(refusals).toBe(2); // the first retry came 100 ms after the first refusal
    // The retries (100 ms, then 500 ms) go on in the background; the third try answers.
    await vi.advanceTimersByTimeAsync(400);
    expect(refusals).toBe(3);
    expect(events.filter((e) => e.type === "query_succeeded")).toHaveLength(2);
    target.answer(async () => Promise.reject(refused()));
    const later = run(spec());
    await vi.advanceTimersByTimeAsync(250);
    expect(await later).toMatchObject({ status: "degraded", data: [9] });
  });

  it("with nothing cached, the caller waits out the retries for a refused connection", async () => {
    const { run, target } = setup();
    target.answer(async () => Promise.reject(refused()));
    const pending = run(spec());
    await expectSettledAt(pending, 1_600);
    expect(await pending).toMatchObject({ status: "error", reason: "database_unavailable" });
    expect(target.calls).toHaveLength(4);
  });

  it("a slow query is degraded with its own reason, a full queue as busy; neither touches the endpoint breaker", async () => {
    const { run, target, policy } = setup({ freshForMs: 0 });
    await run(spec());
    target.answer(async () => Promise.reject(new SlowCallError(2_000)));
    const slowAnswer = run(spec());
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await slowAnswer).toMatchObject({
      status: "degraded",
      reason: "query_slow",
      cause: "query slow: no answer within 2000 ms while QuestDB answers other queries",
    });
    target.answer(async () => Promise.reject(new PoolBusyError("no free connection within 2000 ms")));
    expect(await run(spec())).toMatchObject({
      status: "degraded",
      reason: "busy",
      message: "Failed to get active sessions: no free connection within 2000 ms (127.0.0.1:8812)",
    });
    expect(await run(spec({ limit: 99 }))).toMatchObject({ status: "error", reason: "busy" });
    expect(policy.breakerState()).toBe("closed");
  });

  it("opens the breaker after repeated connection failures and says when it will retry", async () => {
    const { run, target } = setup({ retryDelaysMs: [] });
    await run(spec());
    target.answer(async () => Promise.reject(refused()));
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(1_000);
      await run(spec());
    }
    await vi.advanceTimersByTimeAsync(1_000);
    const answer = await run(spec());
    expect(answer).toMatchObject({
      status: "degraded",
      breaker: "open",
      message: "Failed to get active sessions: circuit breaker open after connection refused (127.0.0.1:8812)",
    });
    expect(answer.status === "degraded" && answer.retryAt).toBe("2026-11-27T12:00:35.000Z");
  });

  it("reports each answer once, with where it came from, and each failure once, classified", async () => {
    const { run, target, events } = setup({ freshForMs: 1_000 });
    await run(spec());
    await run(spec());
    vi.setSystemTime(new Date("2026-11-27T12:00:04Z"));
    target.answer(async () => Promise.reject(refused()));
    const pending = run(spec());
    await vi.advanceTimersByTimeAsync(2_000);
    await pending;
    const answers = events.filter((e) => e.type === "answered");
    expect(answers).toEqual([
      { type: "answered", operation: "sessions.active", status: "ok" },
      { type: "answered", operation: "sessions.active", status: "ok", fromCache: "fresh" },
      {
        type: "answered",
        operation: "sessions.active",
        status: "degraded",
        reason: "database_unavailable",
        fromCache: "stale",
        ageSeconds: 4.25,
      },
    ]);
    const failures = events.filter((e) => e.type === "query_failed");
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      failure: { kind: "connection_refused", cause: "connection refused (127.0.0.1:8812)" },
      message: "Failed to get active sessions: connection refused (127.0.0.1:8812)",
    });
    // The first try and three retries, each one attempt sent towards QuestDB.
    expect(events.filter((e) => e.type === "query_started")).toHaveLength(5);
  });
});
