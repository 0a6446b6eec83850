import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "@/harness/eventually";
import { createLiveTopics, type LiveRelay, type LiveTopics } from "./live-topics";
import { countedAnswers as answers, readTopic as read } from "./testing/topic-reader";

/** Real timers, short interval: assertions wait for states (eventually), never for a duration. */
const INTERVAL_MS = 20;

const hubs: LiveTopics[] = [];
function hub(relay?: LiveRelay): LiveTopics {
  const live = createLiveTopics({ intervalMs: INTERVAL_MS, relay });
  hubs.push(live);
  return live;
}
afterEach(() => {
  for (const live of hubs.splice(0)) live.close();
});

describe("live topics", () => {
  it("one loop per topic for every subscriber; each gets the same events", async () => {
    const live = hub();
    let value = 1;
    const source = answers(() => value);
    const readers = Array.from({ length: 50 }, () => read(live, "sessions", source.fetch));
    await eventually(() => readers.every((r) => r.events.length === 1));
    expect(live.stats()).toEqual({ topics: 1, subscribers: 50, loops: 1 });
    const ticksBefore = source.calls();
    value = 2;
    await eventually(() => readers.every((r) => r.events.length === 2));
    // Fifty subscribers, yet the fetches are the loop's: a handful of ticks, not fifty per tick.
    expect(source.calls() - ticksBefore).toBeLessThan(20);
    expect(new Set(readers.map((r) => r.events.map((e) => e.id).join()))).toHaveProperty("size", 1);
    expect(readers[0]!.events.map((e) => (e.answer as { data: number }).data)).toEqual([1, 2]);
    await Promise.all(readers.map((r) => r.stop()));
  });

  it("the first subscriber gets the current answer at once, not one period later", async () => {
    const live = createLiveTopics({ intervalMs: 60_000 });
    hubs.push(live);
    const reader = read(live, "t", answers(() => 1).fetch);
    await eventually(() => reader.events.length === 1, { timeoutMs: 5_000 });
    await reader.stop();
  });

  it("sends changes only: a new fetch time with the same data is not an event", async () => {
    const live = hub();
    const source = answers(() => 7);
    const reader = read(live, "sessions", source.fetch);
    await eventually(() => source.calls() >= 5);
    expect(reader.events).toHaveLength(1);
    await reader.stop();
  });

  it("stops the loop when the last subscriber leaves", async () => {
    const live = hub();
    const source = answers(() => 1);
    const a = read(live, "t", source.fetch);
    const b = read(live, "t", source.fetch);
    await eventually(() => a.events.length === 1 && b.events.length === 1);
    await a.stop();
    expect(live.stats().topics).toBe(1);
    await b.stop();
    expect(live.stats()).toEqual({ topics: 0, subscribers: 0, loops: 0 });
    const calls = source.calls();
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 5));
    expect(source.calls()).toBe(calls);
  });

  it("a reconnect with the latest id gets nothing again; with an older id, the current answer at once", async () => {
    const live = hub();
    let value = 1;
    const source = answers(() => value);
    const first = read(live, "t", source.fetch);
    await eventually(() => first.events.length === 1);
    value = 2;
    await eventually(() => first.events.length === 2);
    const [older, latest] = first.events.map((e) => e.id);

    const upToDate = read(live, "t", source.fetch, latest);
    const behind = read(live, "t", source.fetch, older);
    await eventually(() => behind.events.length === 1);
    expect(behind.events[0]!.id).toBe(latest);
    expect(upToDate.events).toEqual([]);
    value = 3;
    await eventually(() => upToDate.events.length === 1);
    await Promise.all([first.stop(), upToDate.stop(), behind.stop()]);
  });

  it("a fetch that throws is logged and the loop goes on", async () => {
    const logged: string[] = [];
    const live = createLiveTopics({ intervalMs: INTERVAL_MS, log: (_level, event) => logged.push(event) });
    hubs.push(live);
    let calls = 0;
    const reader = read(live, "t", async () => {
      calls += 1;
      if (calls === 1) throw new Error("bug");
      return { status: "ok", data: calls >= 3 ? "b" : "a" };
    });
    await eventually(() => reader.events.length === 2);
    expect(logged).toContain("live.fetch_failed");
    await reader.stop();
  });
});

/** A relay shared by hubs in one process, the way Redis is shared by instances; `down` makes it answer undefined. */
function memoryRelay() {
  const claims = new Map<string, { holder: number; until: number }>();
  const latest = new Map<string, string>();
  const listeners = new Map<string, Set<(event: string) => void>>();
  const state = { down: false };
  const relayFor = (holder: number): LiveRelay => ({
    async claim(topic, ttlMs) {
      if (state.down) return undefined;
      const current = claims.get(topic);
      if (current && current.holder !== holder && current.until > Date.now()) return false;
      claims.set(topic, { holder, until: Date.now() + ttlMs });
      return true;
    },
    async publish(topic, event) {
      if (state.down) return;
      latest.set(topic, event);
      for (const listener of listeners.get(topic) ?? []) listener(event);
    },
    async latest(topic) {
      return state.down ? undefined : latest.get(topic);
    },
    listen(topic, onEvent) {
      const set = listeners.get(topic) ?? new Set();
      set.add(onEvent);
      listeners.set(topic, set);
      return () => set.delete(onEvent);
    },
  });
  return { relayFor, state };
}

/**
 * A reader on topic "t" at each instance, each with its own counted source: waits until every
 * reader has the first answer, then until every one has the change the sources make next.
 */
async function readFirstAnswerAndOneChange(instances: LiveTopics[]) {
  let value = 1;
  const sources = instances.map(() => answers(() => value));
  const readers = instances.map((live, i) => read(live, "t", sources[i]!.fetch));
  await eventually(() => readers.every((r) => r.events.length === 1));
  value = 2;
  await eventually(() => readers.every((r) => r.events.length === 2));
  return { sources, readers };
}

describe("live topics in a fleet", () => {
  it("one instance runs the loop; the others relay its events with the same ids", async () => {
    const { relayFor } = memoryRelay();
    const instances = [hub(relayFor(1)), hub(relayFor(2)), hub(relayFor(3))];
    const { sources, readers } = await readFirstAnswerAndOneChange(instances);
    expect(sources.filter((s) => s.calls() > 0)).toHaveLength(1);
    expect(new Set(readers.map((r) => r.events.map((e) => e.id).join()))).toHaveProperty("size", 1);
    expect(instances.map((live) => live.stats().loops).sort()).toEqual([0, 0, 1]);
    await Promise.all(readers.map((r) => r.stop()));
  });

  it("when the loop's instance goes away, another takes the loop over and its viewers keep getting changes", async () => {
    const { relayFor } = memoryRelay();
    const first = hub(relayFor(1));
    let value = 1;
    const source1 = answers(() => value);
    const owner = read(first, "t", source1.fetch);
    await eventually(() => owner.events.length === 1);
    const second = hub(relayFor(2));
    const source2 = answers(() => value);
    const follower = read(second, "t", source2.fetch);
    await eventually(() => follower.events.length === 1);
    expect(source2.calls()).toBe(0);

    await owner.stop();
    first.close();
    value = 2;
    await eventually(() => follower.events.length === 2);
    expect(source2.calls()).toBeGreaterThan(0);
    await follower.stop();
  });

  it("without Redis every instance runs its own loop: viewers still get changes", async () => {
    const { relayFor, state } = memoryRelay();
    state.down = true;
    const instances = [hub(relayFor(1)), hub(relayFor(2))];
    const { sources, readers } = await readFirstAnswerAndOneChange(instances);
    expect(sources.every((s) => s.calls() > 0)).toBe(true);
    await Promise.all(readers.map((r) => r.stop()));
  });
});
