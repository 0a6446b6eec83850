import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "@/harness/eventually";
import type { ChangeDetector, ChangeReason } from "./change-detector";
import { LiveLimitError } from "./live-limits";
import { createLiveTopics, type LiveTopics } from "./live-topics";
import { countedAnswers as answers, dataOf, readTopic as read } from "./testing/topic-reader";

/**
 * Live topics driven by the change detector (a fake one the test moves), and the bounds on live
 * work. Real timers; assertions wait for states (eventually), and "no query" is checked over
 * several safety-net periods of the fallback.
 */

const INTERVAL_MS = 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A detector the test drives: `move(table)` tells the watchers of that table; `vouching` says whether it vouches. */
function fakeDetector() {
  const watchers = new Set<{ tables: readonly string[]; onChange: (reason: ChangeReason) => void }>();
  const state = { vouching: true };
  const detector: ChangeDetector = {
    watch(tables, onChange) {
      const watcher = { tables, onChange };
      watchers.add(watcher);
      return () => watchers.delete(watcher);
    },
    vouches: () => state.vouching,
    stats: () => ({ watchers: watchers.size, checks: 0, failures: 0 }),
    stop: () => undefined,
  };
  const move = (table: string, reason: ChangeReason = "changed") => {
    for (const watcher of [...watchers]) if (watcher.tables.includes(table)) watcher.onChange(reason);
  };
  return { detector, state, move, watchers };
}

const hubs: LiveTopics[] = [];
function hub(options: Partial<Parameters<typeof createLiveTopics>[0]> = {}): LiveTopics {
  const live = createLiveTopics({ intervalMs: INTERVAL_MS, safetyNetMs: 60_000, ...options });
  hubs.push(live);
  return live;
}
afterEach(() => {
  for (const live of hubs.splice(0)) live.close();
});

describe("live topics driven by what changed", () => {
  it("no change, no query after the first; a table moved, one query and the change pushed", async () => {
    const fake = fakeDetector();
    const live = hub({ detector: fake.detector });
    let value = 1;
    const source = answers(() => value);
    const reader = read(live, "sessions", source.fetch, undefined, ["session_events"]);
    await eventually(() => reader.events.length === 1);
    await sleep(INTERVAL_MS * 10);
    expect(source.calls()).toBe(1);
    fake.move("trades"); // a table it does not read
    await sleep(INTERVAL_MS * 3);
    expect(source.calls()).toBe(1);
    value = 2;
    fake.move("session_events");
    await eventually(() => reader.events.length === 2);
    expect(source.calls()).toBe(2);
    expect(dataOf(reader.events)).toEqual([1, 2]);
    await reader.stop();
    expect(fake.watchers.size).toBe(0);
  });

  it("changes faster than the minimum interval cost one query per interval", async () => {
    const fake = fakeDetector();
    const live = hub({ detector: fake.detector, minIntervalMs: 100 });
    const source = answers(() => Date.now());
    const reader = read(live, "t", source.fetch, undefined, ["trades"]);
    await eventually(() => reader.events.length === 1);
    const started = Date.now();
    while (Date.now() - started < 500) {
      fake.move("trades");
      await sleep(5);
    }
    await sleep(150);
    // About 100 moves in 0.5 s: at most one query per 100 ms (and one more after the last).
    expect(source.calls()).toBeLessThanOrEqual(8);
    expect(source.calls()).toBeGreaterThanOrEqual(4);
    await reader.stop();
  });

  it("while the detector cannot vouch, the topic refreshes every interval (the safety net)", async () => {
    const fake = fakeDetector();
    fake.state.vouching = false;
    const live = hub({ detector: fake.detector });
    const source = answers(() => 1);
    const reader = read(live, "t", source.fetch, undefined, ["trades"]);
    await eventually(() => source.calls() >= 5);
    fake.state.vouching = true;
    await sleep(INTERVAL_MS * 3);
    const calls = source.calls();
    await sleep(INTERVAL_MS * 10);
    expect(source.calls()).toBe(calls);
    await reader.stop();
  });

  it("a detector that starts failing makes the topic query at once (the degraded answer is pushed)", async () => {
    const fake = fakeDetector();
    const live = hub({ detector: fake.detector });
    let status = "ok";
    const reader = read(live, "t", async () => ({ status, data: 1 }), undefined, ["trades"]);
    await eventually(() => reader.events.length === 1);
    status = "degraded";
    fake.move("trades", "failing");
    await eventually(() => reader.events.length === 2);
    expect((reader.events[1]!.answer as { status: string }).status).toBe("degraded");
    await reader.stop();
  });
});

describe("bounds on live work", () => {
  it("100 streams from one client: the 9th and later are refused with the limit named; one loop runs", async () => {
    const live = hub({ maxStreamsPerHolder: 8 });
    const source = answers(() => 1);
    const controllers: AbortController[] = [];
    let refused = 0;
    let message = "";
    for (let i = 0; i < 100; i++) {
      const controller = new AbortController();
      try {
        const stream = live.subscribe({
          topic: `t${i}`,
          fetch: source.fetch,
          signal: controller.signal,
          holders: ["client:10.0.0.1", "session:alice"],
        });
        void (async () => {
          for await (const _event of stream);
        })();
        controllers.push(controller);
      } catch (error) {
        expect(error).toBeInstanceOf(LiveLimitError);
        refused += 1;
        message = (error as Error).message;
      }
    }
    expect(refused).toBe(92);
    expect(message).toMatch(/LIVE_MAX_STREAMS_PER_CLIENT=8/);
    expect(live.stats().topics).toBe(8);
    // Another client is not affected; a stream that ends gives its place back.
    expect(() =>
      live.subscribe({
        topic: "t0",
        fetch: source.fetch,
        signal: new AbortController().signal,
        holders: ["client:10.0.0.2"],
      }),
    ).not.toThrow();
    controllers[0]!.abort();
    await eventually(() => {
      try {
        live.subscribe({
          topic: "t0",
          fetch: source.fetch,
          signal: new AbortController().signal,
          holders: ["client:10.0.0.1"],
        });
        return true;
      } catch {
        return false;
      }
    });
    for (const controller of controllers) controller.abort();
  });

  it("at most maxTopics topics per instance; a known topic still takes subscribers", async () => {
    const live = hub({ maxTopics: 3 });
    const source = answers(() => 1);
    const readers = [0, 1, 2].map((i) => read(live, `t${i}`, source.fetch));
    expect(() => live.subscribe({ topic: "t3", fetch: source.fetch, signal: new AbortController().signal })).toThrow(
      /LIVE_MAX_TOPICS=3/,
    );
    const again = read(live, "t0", source.fetch);
    await eventually(() => again.events.length === 1);
    expect(live.stats().topics).toBe(3);
    await Promise.all([...readers, again].map((r) => r.stop()));
  });
});
