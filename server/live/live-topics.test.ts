import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "@/harness/eventually";
import { createLiveTopics, type LiveEvent, type LiveRelay, type LiveTopics } from "./live-topics";
import { countedAnswers as answers, dataOf, readTopic as read } from "./testing/topic-reader";

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

/**
 * A relay shared by hubs in one process, the way Redis is shared by instances; `down` makes it
 * answer undefined; `loseNext` drops the next publish's message (the stored latest is still kept).
 * The latest keeps when its loop last published or renewed its claim, as the Redis relay does.
 */
function memoryRelay() {
  const claims = new Map<string, { holder: number; until: number }>();
  const latest = new Map<string, { event: string; at: number }>();
  const listeners = new Map<string, Set<(event: string) => void>>();
  const state = { down: false, loseNext: false };
  const relayFor = (holder: number): LiveRelay => ({
    async claim(topic, ttlMs) {
      if (state.down) return undefined;
      const current = claims.get(topic);
      if (current && current.holder !== holder && current.until > Date.now()) return false;
      const stored = latest.get(topic);
      if (current?.holder === holder && current.until > Date.now() && stored) stored.at = Date.now();
      claims.set(topic, { holder, until: Date.now() + ttlMs });
      return true;
    },
    async publish(topic, event) {
      if (state.down) return;
      latest.set(topic, { event, at: Date.now() });
      if (state.loseNext) {
        state.loseNext = false;
        return;
      }
      for (const listener of listeners.get(topic) ?? []) listener(event);
    },
    async latest(topic, maxAgeMs) {
      const stored = state.down ? undefined : latest.get(topic);
      if (!stored || (maxAgeMs !== undefined && Date.now() - stored.at > maxAgeMs)) return undefined;
      return stored.event;
    },
    listen(topic, onEvent) {
      const set = listeners.get(topic) ?? new Set();
      set.add(onEvent);
      listeners.set(topic, set);
      return () => set.delete(onEvent);
    },
  });
  /** Keeps `event` as the topic's latest, `ageMs` old, without telling anyone (a publish whose message was lost). */
  const store = (topic: string, event: LiveEvent, ageMs = 0) =>
    latest.set(topic, { event: JSON.stringify(event), at: Date.now() - ageMs });
  return { relayFor, state, store };
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

/** A follower on instance 2 relaying instance 1's loop of topic "t", both past the first answer. */
async function ownerAndFollower(relayFor: (holder: number) => LiveRelay, intervalMs = INTERVAL_MS) {
  const first = createLiveTopics({ intervalMs, relay: relayFor(1) });
  const second = createLiveTopics({ intervalMs, relay: relayFor(2) });
  hubs.push(first, second);
  const value = { current: 1 };
  const ownerSource = answers(() => value.current);
  const owner = read(first, "t", ownerSource.fetch);
  await eventually(() => owner.events.length === 1);
  const followerSource = answers(() => value.current);
  const follower = read(second, "t", followerSource.fetch);
  await eventually(() => follower.events.length === 1);
  return { first, second, value, owner, follower, followerSource };
}

describe("relays reconcile with the topic's stored latest (issue 19, item 7)", () => {
  it("one lost publish: the relaying instance catches up within a tick, not at the next change", async () => {
    const { relayFor, state } = memoryRelay();
    const { value, owner, follower } = await ownerAndFollower(relayFor);
    state.loseNext = true;
    value.current = 2;
    await eventually(() => dataOf(owner.events).includes(2));
    await eventually(() => dataOf(follower.events).includes(2), { timeoutMs: 2_000, what: "the follower to catch up" });
    expect(follower.events.at(-1)!.id).toBe(owner.events.at(-1)!.id);
    await Promise.all([owner.stop(), follower.stop()]);
  });

  it("a resuming client is compared with the topic's latest, not with what this instance last relayed", async () => {
    const { relayFor, store } = memoryRelay();
    // A long interval: no tick comes to the rescue, the resume itself must look.
    const { second, owner, follower } = await ownerAndFollower(relayFor, 60_000);
    const relayed = follower.events[0]!;
    const [loop, seq] = relayed.id.split(".");
    const newer: LiveEvent = { id: `${loop}.${Number(seq) + 1}`, answer: { status: "ok", data: 2 } };
    store("t", newer); // published, but its message never reached this instance
    const resumed = read(second, "t", answers(() => 2).fetch, relayed.id);
    await eventually(() => resumed.events.length === 1, { timeoutMs: 2_000, what: "the newer latest" });
    expect(resumed.events[0]!.id).toBe(newer.id);
    await Promise.all([owner.stop(), follower.stop(), resumed.stop()]);
  });

  it("a resuming client that already holds the topic's latest gets nothing again from another instance", async () => {
    const { relayFor } = memoryRelay();
    const first = hub(relayFor(1));
    const owner = read(first, "t", answers(() => 1).fetch);
    await eventually(() => owner.events.length === 1);
    const second = hub(relayFor(2));
    const resumed = read(second, "t", answers(() => 1).fetch, owner.events[0]!.id);
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 5));
    expect(resumed.events).toEqual([]);
    await Promise.all([owner.stop(), resumed.stop()]);
  });

  it("a new topic never shows a stored latest its loop stopped confirming ten minutes ago; it takes the loop over", async () => {
    const { relayFor, store } = memoryRelay();
    store("t", { id: "old.7", answer: { status: "ok", data: 0 } }, 10 * 60_000);
    const live = hub(relayFor(1));
    const reader = read(live, "t", answers(() => 1).fetch);
    await eventually(() => reader.events.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 3));
    expect(dataOf(reader.events)).toEqual([1]);
    expect(live.stats().loops).toBe(1);
    await reader.stop();
  });

  it("a loop whose data has not changed keeps its stored latest current: a newcomer shows it at once, without querying", async () => {
    const { relayFor } = memoryRelay();
    const first = hub(relayFor(1));
    const owner = read(first, "t", answers(() => 1).fetch);
    await eventually(() => owner.events.length === 1);
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 10)); // longer than the claim's lifetime
    const second = hub(relayFor(2));
    const source = answers(() => 1);
    const follower = read(second, "t", source.fetch);
    await eventually(() => follower.events.length === 1);
    expect(follower.events[0]!.id).toBe(owner.events[0]!.id);
    expect(source.calls()).toBe(0);
    await Promise.all([owner.stop(), follower.stop()]);
  });
});
