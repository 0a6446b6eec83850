import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AttemptTimeoutError, BreakerOpenError, DeadlineExceededError, describeFailure } from "./errors";
import type { QuestdbEvent } from "./events";
import { createQuestdbPolicy, type PolicyOptions } from "./policy";

const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8812"), { code: "ECONNREFUSED" });
const queryError = () => Object.assign(new Error("table does not exist [table=nope]"), { code: "42P01", severity: "ERROR" });

function policy(overrides: Partial<PolicyOptions> = {}) {
  const transitions: string[] = [];
  const retries: Array<{ attempt: number; delay: number }> = [];
  const events: QuestdbEvent[] = [];
  const p = createQuestdbPolicy({
    retryDelaysMs: [],
    breakerThreshold: 5,
    breakerRecoveryMs: 30_000,
    attemptTimeoutMs: 2_000,
    emit: (event) => {
      events.push(event);
      if (event.type === "breaker_changed") transitions.push(event.state);
      if (event.type === "retry") retries.push({ attempt: event.attempt, delay: event.delayMs });
    },
    ...overrides,
  });
  return { p, transitions, retries, events };
}

/** Settles a promise under fake timers, returning its outcome instead of throwing. */
async function outcome<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("retry", () => {
  it("retries connection failures with the configured delays: the first try plus three retries", async () => {
    const { p, retries } = policy({ retryDelaysMs: [100, 500, 1000], breakerThreshold: 100 });
    const calls: number[] = [];
    const start = Date.now();
    const fn = vi.fn(async () => {
      calls.push(Date.now() - start);
      throw refused();
    });
    const result = outcome(p.execute(fn));
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
    const settled = await outcome(p.execute(fn));
    expect(settled.ok).toBe(false);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(retries).toEqual([]);
  });

  it("recovers when a retry succeeds", async () => {
    const { p } = policy({ retryDelaysMs: [100, 500, 1000] });
    let n = 0;
    const result = outcome(p.execute(async () => (++n < 3 ? Promise.reject(refused()) : "rows")));
    await vi.advanceTimersByTimeAsync(700);
    expect(await result).toEqual({ ok: true, value: "rows" });
    expect(n).toBe(3);
  });

  it("never retries a broken circuit", async () => {
    const { p } = policy({ retryDelaysMs: [100, 500, 1000], breakerThreshold: 1 });
    const first = outcome(p.execute(async () => Promise.reject(refused())));
    await vi.advanceTimersByTimeAsync(2000);
    await first;
    const fn = vi.fn(async () => "rows");
    const settled = await outcome(p.execute(fn));
    expect(settled.ok).toBe(false);
    expect(!settled.ok && settled.error).toBeInstanceOf(BreakerOpenError);
    expect(fn).not.toHaveBeenCalled();
  });
});

describe("circuit breaker", () => {
  it("opens after the threshold of consecutive connection failures and then fails fast", async () => {
    const { p, transitions } = policy();
    for (let i = 0; i < 4; i++) await outcome(p.execute(async () => Promise.reject(refused())));
    expect(p.breakerState()).toBe("closed");
    await outcome(p.execute(async () => Promise.reject(refused())));
    expect(p.breakerState()).toBe("open");
    expect(transitions).toEqual(["open"]);

    const fn = vi.fn(async () => "rows");
    const settled = await outcome(p.execute(fn));
    expect(!settled.ok && settled.error).toBeInstanceOf(BreakerOpenError);
    // Failing fast still says why: the failure that opened the breaker.
    expect(describeFailure("get active sessions", !settled.ok && settled.error)).toBe(
      "Failed to get active sessions: circuit breaker open after connection refused",
    );
    expect(fn).not.toHaveBeenCalled();
    expect(p.retryAt()?.getTime()).toBe(Date.now() + 30_000);
  });

  it("after the recovery time lets exactly one probe through while others wait; success closes it", async () => {
    const { p, transitions } = policy();
    for (let i = 0; i < 5; i++) await outcome(p.execute(async () => Promise.reject(refused())));
    await vi.advanceTimersByTimeAsync(29_999);
    expect(await outcome(p.execute(async () => "too early"))).toMatchObject({ ok: false });
    await vi.advanceTimersByTimeAsync(1);

    let releaseProbe!: (rows: string) => void;
    const probe = vi.fn(() => new Promise<string>((resolve) => (releaseProbe = resolve)));
    const waiter = vi.fn(async () => "second");
    const first = outcome(p.execute(probe));
    const second = outcome(p.execute(waiter));
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
    for (let i = 0; i < 5; i++) await outcome(p.execute(async () => Promise.reject(refused())));
    await vi.advanceTimersByTimeAsync(30_000);
    await outcome(p.execute(async () => Promise.reject(refused())));
    expect(p.breakerState()).toBe("open");
    expect(transitions).toEqual(["open", "half-open", "open"]);
    expect(p.retryAt()?.getTime()).toBe(Date.now() + 30_000);
  });

  it("does not count query failures", async () => {
    const { p } = policy();
    for (let i = 0; i < 20; i++) await outcome(p.execute(async () => Promise.reject(queryError())));
    expect(p.breakerState()).toBe("closed");
  });

  it("bounds every attempt, the half-open probe included, by the attempt timeout", async () => {
    const { p } = policy({ breakerThreshold: 1 });
    const hung = () => new Promise<string>(() => undefined);
    const result = outcome(p.execute(hung));
    await vi.advanceTimersByTimeAsync(2_000);
    const settled = await result;
    expect(!settled.ok && settled.error).toBeInstanceOf(AttemptTimeoutError);
    expect(p.breakerState()).toBe("open");

    await vi.advanceTimersByTimeAsync(30_000);
    const probe = outcome(p.execute(hung));
    await vi.advanceTimersByTimeAsync(2_000);
    expect((await probe).ok).toBe(false);
    expect(p.breakerState()).toBe("open");
  });

  it("a breaker opened by timed-out attempts names the timeout, in its event and when failing fast", async () => {
    const { p, events } = policy({ breakerThreshold: 1 });
    const result = outcome(p.execute(() => new Promise<string>(() => undefined)));
    await vi.advanceTimersByTimeAsync(2_000);
    await result;
    expect(events).toContainEqual({ type: "breaker_changed", state: "open", cause: "attempt timed out after 2000 ms", retryInMs: 30_000 });
    const fast = await outcome(p.execute(async () => "rows"));
    expect(describeFailure("get active sessions", !fast.ok && fast.error)).toBe(
      "Failed to get active sessions: circuit breaker open after attempt timed out after 2000 ms",
    );
  });

  it("lets the next call probe at once when the health check says QuestDB is back", async () => {
    const { p } = policy();
    expect(p.releaseBreaker()).toBe(false); // closed: nothing to release
    for (let i = 0; i < 5; i++) await outcome(p.execute(async () => Promise.reject(refused())));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(p.releaseBreaker()).toBe(true);
    expect(p.retryAt()?.getTime()).toBe(Date.now());
    expect(await outcome(p.execute(async () => "rows"))).toEqual({ ok: true, value: "rows" });
    expect(p.breakerState()).toBe("closed");
  });

  it("after a released probe fails, waits the full recovery time again", async () => {
    const { p } = policy();
    for (let i = 0; i < 5; i++) await outcome(p.execute(async () => Promise.reject(refused())));
    p.releaseBreaker();
    await outcome(p.execute(async () => Promise.reject(refused())));
    expect(p.breakerState()).toBe("open");
    expect(p.retryAt()?.getTime()).toBe(Date.now() + 30_000);
  });
});

describe("bulkhead", () => {
  it("a busy but healthy QuestDB never opens the breaker: attempts wait for a free connection outside the attempt's clock", async () => {
    const { p, transitions } = policy({ maxConcurrent: 2, attemptTimeoutMs: 2_000, breakerThreshold: 2 });
    // A stand-in for a pool of two connections, each query taking 1.5 s.
    let free = 2;
    const waiting: Array<() => void> = [];
    const query = async () => {
      if (free === 0) await new Promise<void>((resolve) => waiting.push(resolve));
      else free--;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const next = waiting.shift();
      if (next) next();
      else free++;
      return "rows";
    };
    const calls = Array.from({ length: 8 }, () => outcome(p.execute(query)));
    await vi.advanceTimersByTimeAsync(4 * 1_500);
    const results = await Promise.all(calls);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(transitions).toEqual([]);
    expect(p.breakerState()).toBe("closed");
  });

  it("a full queue is answered at once, not retried and not counted by the breaker", async () => {
    const { p, retries } = policy({ maxConcurrent: 1, maxQueued: 1, retryDelaysMs: [100], breakerThreshold: 1 });
    const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve("rows"), 500));
    const running = outcome(p.execute(slow));
    const queued = outcome(p.execute(slow));
    const rejected = await outcome(p.execute(slow));
    expect(rejected.ok).toBe(false);
    expect(!rejected.ok && describeFailure("get active sessions", rejected.error)).toBe(
      "Failed to get active sessions: too many queries waiting for a connection",
    );
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await running).ok && (await queued).ok).toBe(true);
    expect(retries).toEqual([]);
    expect(p.breakerState()).toBe("closed");
  });
});
