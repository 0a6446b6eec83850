import { describe, expect, it, vi } from "vitest";
import {
  AttemptTimeoutError,
  ClassifiedError,
  SlowCallError,
  describeFailure,
  failureOf,
  toClassifiedError,
} from "./errors";
import type { QuestdbEvent } from "./events";
import { createQuestdbPolicy, type PolicyOptions } from "./policy";
import { useFakeClock, settle } from "./testing/fake-clock";

const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8812"), { code: "ECONNREFUSED" });
const queryError = () =>
  Object.assign(new Error("table does not exist [table=nope]"), { code: "42P01", severity: "ERROR" });

const OP = "sessions.active";
const slow = () => new SlowCallError(2_000);

function policy(overrides: Partial<PolicyOptions> = {}) {
  const transitions: string[] = [];
  const retries: Array<{ attempt: number; delay: number }> = [];
  const events: QuestdbEvent[] = [];
  const p = createQuestdbPolicy({
    retryDelaysMs: [],
    breakerThreshold: 5,
    breakerRecoveryMs: 30_000,
    emit: (event) => {
      events.push(event);
      if (event.type === "breaker_changed") transitions.push(event.state);
      if (event.type === "retry") retries.push({ attempt: event.attempt, delay: event.delayMs });
    },
    ...overrides,
  });
  return { p, transitions, retries, events };
}

useFakeClock();

describe("retry", () => {
  it("retries connection failures with the configured delays: the first try plus three retries", async () => {
    const { p, retries } = policy({ retryDelaysMs: [100, 500, 1000], breakerThreshold: 100 });
    const calls: number[] = [];
    const start = Date.now();
    const fn = vi.fn(async () => {
      calls.push(Date.now() - start);
      throw refused();
    });
    const result = settle(p.execute(OP, fn));
    await vi.advanceTimersByTimeAsync(99);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1600);
    const settled = await result;
    expect(settled.ok).toBe(false);
    expect(fn).toHaveBeenCalledTimes(4);
    expect(calls).toEqual([0, 100, 600, 1600]);
    expect(retries).toEqual([
      { attempt: 1, delay: 100 },
      { attempt: 2, delay: 500 },
      { attempt: 3, delay: 1000 },
    ]);
  });

  it("tries a query failure once and never retries it", async () => {
    const { p, retries } = policy({ retryDelaysMs: [100, 500, 1000] });
    const fn = vi.fn(async () => {
      throw queryError();
    });
    const settled = await settle(p.execute(OP, fn));
    expect(settled.ok).toBe(false);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(retries).toEqual([]);
  });

  it("recovers when a retry succeeds", async () => {
    const { p } = policy({ retryDelaysMs: [100, 500, 1000] });
    let n = 0;
    const result = settle(p.execute(OP, async () => (++n < 3 ? Promise.reject(refused()) : "rows")));
    await vi.advanceTimersByTimeAsync(700);
    expect(await result).toEqual({ ok: true, value: "rows" });
    expect(n).toBe(3);
  });

  it("never retries a broken circuit", async () => {
    const { p } = policy({ retryDelaysMs: [100, 500, 1000], breakerThreshold: 1 });
    const first = settle(p.execute(OP, async () => Promise.reject(refused())));
    await vi.advanceTimersByTimeAsync(2000);
    await first;
    const fn = vi.fn(async () => "rows");
    const settled = await settle(p.execute(OP, fn));
    expect(settled.ok).toBe(false);
    expect(!settled.ok && failureOf(settled.error).kind).toBe("breaker_open");
    expect(fn).not.toHaveBeenCalled();
  });
});

describe("circuit breaker", () => {
  it("opens after the threshold of consecutive connection failures and then fails fast", async () => {
    const { p, transitions } = policy();
    for (let i = 0; i < 4; i++) await settle(p.execute(OP, async () => Promise.reject(refused())));
    expect(p.breakerState()).toBe("closed");
    await settle(p.execute(OP, async () => Promise.reject(refused())));
    expect(p.breakerState()).toBe("open");
    expect(transitions).toEqual(["open"]);

    const fn = vi.fn(async () => "rows");
    const settled = await settle(p.execute(OP, fn));
    expect(!settled.ok && failureOf(settled.error).kind).toBe("breaker_open");
    // Failing fast still says why: the failure that opened the breaker.
    expect(describeFailure("get active sessions", !settled.ok && settled.error)).toBe(
      "Failed to get active sessions: circuit breaker open after connection refused",
    );
    expect(fn).not.toHaveBeenCalled();
    expect(p.retryAt()?.getTime()).toBe(Date.now() + 30_000);
  });

  it("after the recovery time lets exactly one probe through while others wait; success closes it", async () => {
    const { p, transitions } = policy();
    for (let i = 0; i < 5; i++) await settle(p.execute(OP, async () => Promise.reject(refused())));
    await vi.advanceTimersByTimeAsync(29_999);
    expect(await settle(p.execute(OP, async () => "too early"))).toMatchObject({ ok: false });
    await vi.advanceTimersByTimeAsync(1);

    let releaseProbe!: (rows: string) => void;
    const probe = vi.fn(() => new Promise<string>((resolve) => (releaseProbe = resolve)));
    const waiter = vi.fn(async () => "second");
    const first = settle(p.execute(OP, probe));
    const second = settle(p.execute(OP, waiter));
    await vi.advanceTimersByTimeAsync(10);
    expect(p.breakerState()).toBe("half-open");
    expect(probe).toHaveBeenCalledTimes(1);
    expect(waiter).not.toHaveBeenCalled();

    releaseProbe("first");
    expect(await first).toEqual({ ok: true, value: "first" });
    expect(await second).toEqual({ ok: true, value: "second" });
    expect(p.breakerState()).toBe("closed");
    expect(transitions).toEqual(["open", "half-open", "closed"]);
  });

  it("a failed probe opens it again for another full recovery time", async () => {
    const { p, transitions } = policy();
    for (let i = 0; i < 5; i++) await settle(p.execute(OP, async () => Promise.reject(refused())));
    await vi.advanceTimersByTimeAsync(30_000);
    await settle(p.execute(OP, async () => Promise.reject(refused())));
    expect(p.breakerState()).toBe("open");
    expect(transitions).toEqual(["open", "half-open", "open"]);
    expect(p.retryAt()?.getTime()).toBe(Date.now() + 30_000);
  });

  it("does not count query failures", async () => {
    const { p } = policy();
    for (let i = 0; i < 20; i++) await settle(p.execute(OP, async () => Promise.reject(queryError())));
    expect(p.breakerState()).toBe("closed");
  });

  it("a breaker opened by timed-out attempts names the timeout, in its event and when failing fast", async () => {
    const { p, events } = policy({ breakerThreshold: 1 });
    await settle(p.execute(OP, async () => Promise.reject(new AttemptTimeoutError(2_000))));
    expect(events).toContainEqual({
      type: "breaker_changed",
      state: "open",
      cause: "attempt timed out after 2000 ms",
      retryInMs: 30_000,
    });
    const fast = await settle(p.execute(OP, async () => "rows"));
    expect(describeFailure("get active sessions", !fast.ok && fast.error)).toBe(
      "Failed to get active sessions: circuit breaker open after attempt timed out after 2000 ms",
    );
  });

  it("lets the next call probe at once when the health check says QuestDB is back", async () => {
    const { p } = policy();
    expect(p.releaseBreaker()).toBe(false); // closed: nothing to release
    for (let i = 0; i < 5; i++) await settle(p.execute(OP, async () => Promise.reject(refused())));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(p.releaseBreaker()).toBe(true);
    expect(p.retryAt()?.getTime()).toBe(Date.now());
    expect(await settle(p.execute(OP, async () => "rows"))).toEqual({ ok: true, value: "rows" });
    expect(p.breakerState()).toBe("closed");
  });

  it("after a released probe fails, waits the full recovery time again", async () => {
    const { p } = policy();
    for (let i = 0; i < 5; i++) await settle(p.execute(OP, async () => Promise.reject(refused())));
    p.releaseBreaker();
    await settle(p.execute(OP, async () => Promise.reject(refused())));
    expect(p.breakerState()).toBe("open");
    expect(p.retryAt()?.getTime()).toBe(Date.now() + 30_000);
  });
});

describe("order of retry and breaker", () => {
  it("counts every retried attempt towards the endpoint breaker, and stops retrying once it opens", async () => {
    const { p, transitions } = policy({ retryDelaysMs: [100, 500, 1000], breakerThreshold: 2 });
    const fn = vi.fn(async () => Promise.reject(refused()));
    const result = settle(p.execute(OP, fn));
    await vi.advanceTimersByTimeAsync(2_000);
    const settled = await result;
    expect(fn).toHaveBeenCalledTimes(2);
    expect(!settled.ok && failureOf(settled.error).kind).toBe("breaker_open");
    expect(p.breakerState()).toBe("open");
    expect(transitions).toEqual(["open"]);
  });

  it("once closed again, says no retry time, and a release on a closed breaker does nothing", async () => {
    const { p, events } = policy({ breakerThreshold: 1 });
    await settle(p.execute(OP, async () => Promise.reject(refused())));
    expect(p.retryAt()).not.toBeNull();
    expect(p.releaseBreaker()).toBe(true);
    expect(await settle(p.execute(OP, async () => "rows"))).toEqual({ ok: true, value: "rows" });
    expect(p.breakerState()).toBe("closed");
    expect(p.retryAt()).toBeNull();
    const before = events.length;
    expect(p.releaseBreaker()).toBe(false);
    expect(events).toHaveLength(before);
  });
});

describe("slow calls and each operation's own breaker", () => {
  it("a slow call is tried again once, never more, and the endpoint breaker never counts it", async () => {
    const { p, retries, transitions } = policy({ retryDelaysMs: [100, 500, 1000], breakerThreshold: 1 });
    const fn = vi.fn(async () => Promise.reject(slow()));
    const result = settle(p.execute(OP, fn));
    await vi.advanceTimersByTimeAsync(2_000);
    const settled = await result;
    expect(fn).toHaveBeenCalledTimes(2);
    expect(retries).toHaveLength(1);
    expect(!settled.ok && describeFailure("get candles", settled.error)).toBe(
      "Failed to get candles: query slow: no answer within 2000 ms while QuestDB answers other queries",
    );
    expect(p.breakerState()).toBe("closed");
    expect(transitions).toEqual([]);
  });

  it("an operation slow at least half of its last calls opens its own breaker: it fails fast, the others go on", async () => {
    const { p, events } = policy({
      retryDelaysMs: [],
      operationBreaker: { window: 10, minimumCalls: 4, slowRate: 0.5, recoveryMs: 30_000 },
    });
    const heavy = vi.fn(async () => Promise.reject(slow()));
    for (let i = 0; i < 4; i++) await settle(p.execute("market.candles", heavy));
    expect(p.operationState("market.candles")).toBe("open");
    expect(events).toContainEqual(
      expect.objectContaining({ type: "operation_breaker_changed", operation: "market.candles", state: "open" }),
    );
    heavy.mockClear();
    const fast = await settle(p.execute("market.candles", heavy));
    expect(heavy).not.toHaveBeenCalled();
    expect(!fast.ok && failureOf(fast.error).kind).toBe("operation_open");
    expect(describeFailure("get candles", !fast.ok && fast.error)).toMatch(/^Failed to get candles: query slow: /);
    expect(p.retryAt("market.candles")?.getTime()).toBe(Date.now() + 30_000);
    // Another operation and the endpoint are untouched.
    expect(await settle(p.execute(OP, async () => "rows"))).toEqual({ ok: true, value: "rows" });
    expect(p.breakerState()).toBe("closed");
    expect(p.operationState(OP)).toBe("closed");
  });

  it("the health check releases the endpoint breaker only, never an operation's", async () => {
    const { p } = policy({
      retryDelaysMs: [],
      operationBreaker: { window: 4, minimumCalls: 2, slowRate: 0.5, recoveryMs: 30_000 },
    });
    for (let i = 0; i < 2; i++) await settle(p.execute("market.candles", async () => Promise.reject(slow())));
    expect(p.operationState("market.candles")).toBe("open");
    expect(p.releaseBreaker()).toBe(false);
    expect((await settle(p.execute("market.candles", async () => "rows"))).ok).toBe(false);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(await settle(p.execute("market.candles", async () => "rows"))).toEqual({ ok: true, value: "rows" });
    expect(p.operationState("market.candles")).toBe("closed");
  });

  it("reads the kind the pool classified, not the error's look: a refusal classified slow is treated as slow", async () => {
    const { p, retries } = policy({ retryDelaysMs: [100, 500, 1000], breakerThreshold: 1 });
    const slowAsClassified = () =>
      new ClassifiedError({ kind: "slow_call", cause: "query slow: told by the pool", errorType: "Error" }, refused());
    const fn = vi.fn(async () => Promise.reject(slowAsClassified()));
    const result = settle(p.execute(OP, fn));
    await vi.advanceTimersByTimeAsync(2_000);
    const settled = await result;
    expect(fn).toHaveBeenCalledTimes(2);
    expect(retries).toHaveLength(1);
    expect(!settled.ok && failureOf(settled.error).cause).toBe("query slow: told by the pool");
    expect(p.breakerState()).toBe("closed");
  });

  it("raises its own failures classified: an open breaker fails fast with the failure that opened it", async () => {
    const { p } = policy({ breakerThreshold: 1, endpoint: "10.0.0.1:8812" });
    await settle(
      p.execute(OP, async () => Promise.reject(toClassifiedError(refused(), { endpoint: "10.0.0.1:8812" }))),
    );
    const fast = await settle(p.execute(OP, async () => "rows"));
    expect(!fast.ok && fast.error).toBeInstanceOf(ClassifiedError);
    expect(!fast.ok && failureOf(fast.error)).toMatchObject({
      kind: "breaker_open",
      cause: "circuit breaker open after connection refused (10.0.0.1:8812)",
    });
  });

  it("rejected credentials are not retried, and count towards the endpoint breaker", async () => {
    const { p, retries } = policy({ retryDelaysMs: [100, 500, 1000], breakerThreshold: 2 });
    const rejected = () =>
      Object.assign(new Error("password authentication failed for user admin"), { code: "28P01", severity: "FATAL" });
    const fn = vi.fn(async () => Promise.reject(rejected()));
    await settle(p.execute(OP, fn));
    expect(fn).toHaveBeenCalledTimes(1);
    expect(retries).toEqual([]);
    await settle(p.execute(OP, fn));
    expect(p.breakerState()).toBe("open");
  });
});

describe("the fleet's breaker", () => {
  it("told another instance opened, fails fast with that cause until released, then closes; its own events say they came from the fleet", async () => {
    const { p, events } = policy();
    const release = p.isolate({
      cause: "connection refused (10.0.0.9:8812)",
      retryAt: Date.now() + 30_000,
      maxMs: 60_000,
    });
    expect(p.breakerState()).toBe("open");
    expect(events).toContainEqual(expect.objectContaining({ type: "breaker_changed", state: "open", fromFleet: true }));
    const fn = vi.fn(async () => "rows");
    const fast = await settle(p.execute(OP, fn));
    expect(fn).not.toHaveBeenCalled();
    expect(describeFailure("get active sessions", !fast.ok && fast.error)).toBe(
      "Failed to get active sessions: circuit breaker open after connection refused (10.0.0.9:8812), seen by another instance",
    );
    expect(p.retryAt()?.getTime()).toBe(Date.now() + 30_000);
    release();
    expect(p.breakerState()).toBe("closed");
    expect(events.at(-1)).toEqual({ type: "breaker_changed", state: "closed", fromFleet: true });
    expect(await settle(p.execute(OP, fn))).toEqual({ ok: true, value: "rows" });
  });

  it("this instance's own successful health check ends the fleet's hold at once (issue 19, item 3)", async () => {
    const { p, events } = policy();
    const release = p.isolate({ cause: "connection refused (10.0.0.9:8812)", maxMs: 60_000 });
    expect(p.breakerState()).toBe("open");
    // Closed again, nothing to probe: the health check's own SELECT 1 was the proof.
    expect(p.releaseBreaker()).toBe(false);
    expect(p.breakerState()).toBe("closed");
    expect(events).toContainEqual({ type: "breaker_released", reason: "own health check succeeded" });
    expect(await settle(p.execute(OP, async () => "rows"))).toEqual({ ok: true, value: "rows" });
    // The announcer's release, when it comes later, is a no-op.
    release();
    expect(p.breakerState()).toBe("closed");
  });

  it("an isolation nobody releases ends by itself after maxMs (the announcer may have died)", async () => {
    const { p } = policy();
    p.isolate({ cause: "connection refused", maxMs: 5_000 });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(p.breakerState()).toBe("open");
    await vi.advanceTimersByTimeAsync(1);
    expect(p.breakerState()).toBe("closed");
  });
});
