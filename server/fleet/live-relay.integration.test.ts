import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "@/harness/eventually";
import { startRedis, type RedisProcess } from "@/harness/redis-process";
import { createLiveTopics, type LiveTopics } from "@/server/live/live-topics";
import { countedAnswers as source, dataOf, readTopic as read } from "@/server/live/testing/topic-reader";
import { createLiveRelay } from "./live-relay";
import { createFleetRedis, type FleetRedis } from "./redis-connection";

/**
 * Live topics across instances through a real Redis: one loop per topic for the fleet, the others
 * relaying its events (same ids), a takeover when the loop's instance leaves, and every instance
 * running its own loop while Redis is down — rejoining one loop when it is back; relays that
 * catch up with the stored latest, and a stored latest no loop confirms any more left unshown.
 */

const INTERVAL_MS = 100;
const PREFIX = `live-test-${process.pid}:`;
/** Where the relay keeps a topic's latest event. */
const latestKey = (topic: string) => `${PREFIX}live:latest:${topic}`;

let redis: RedisProcess;
beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await redis?.stop();
});

const opened: Array<{ conn: FleetRedis; live: LiveTopics }> = [];
afterEach(() => {
  for (const { conn, live } of opened.splice(0)) {
    live.close();
    conn.close();
  }
});

function instance(id: string): { conn: FleetRedis; live: LiveTopics } {
  const conn = createFleetRedis({ url: redis.url, instanceId: id, commandTimeoutMs: 150 });
  const live = createLiveTopics({
    intervalMs: INTERVAL_MS,
    relay: createLiveRelay(conn, { prefix: PREFIX }),
  });
  const made = { conn, live };
  opened.push(made);
  return made;
}

describe("live topics over a real Redis", () => {
  it("three instances: one queries, all three show each change with the same id", async () => {
    const instances = ["a", "b", "c"].map(instance);
    await eventually(() => instances.every((i) => i.conn.status() === "ok"), { timeoutMs: 10_000 });
    let value = 1;
    const sources = instances.map(() => source(() => value));
    const topic = `t-${Date.now()}`;
    const readers = instances.map((i, n) => read(i.live, topic, sources[n]!.fetch));
    await eventually(() => readers.every((r) => r.events.length >= 1), { timeoutMs: 10_000 });
    value = 2;
    await eventually(() => readers.every((r) => dataOf(r.events).includes(2)), { timeoutMs: 10_000 });
    expect(sources.filter((s) => s.calls() > 0)).toHaveLength(1);
    const lastIds = readers.map((r) => r.events.at(-1)!.id);
    expect(new Set(lastIds).size).toBe(1);
    await Promise.all(readers.map((r) => r.stop()));
  });

  it("the loop's instance leaves: another takes over within the claim's lifetime and its viewers keep getting changes", async () => {
    const [first, second] = [instance("first"), instance("second")];
    await eventually(() => first.conn.status() === "ok" && second.conn.status() === "ok", { timeoutMs: 10_000 });
    let value = 1;
    const topic = `t-${Date.now()}`;
    const s1 = source(() => value);
    const owner = read(first.live, topic, s1.fetch);
    await eventually(() => owner.events.length === 1, { timeoutMs: 10_000 });
    const s2 = source(() => value);
    const follower = read(second.live, topic, s2.fetch);
    await eventually(() => follower.events.length === 1, { timeoutMs: 10_000 });
    expect(s2.calls()).toBe(0);

    await owner.stop();
    first.live.close();
    value = 2;
    await eventually(() => dataOf(follower.events).includes(2), { timeoutMs: 10_000 });
    expect(s2.calls()).toBeGreaterThan(0);
    await follower.stop();
  });

  it("Redis killed: each instance runs its own loop and viewers keep getting changes; Redis back: one loop again", async () => {
    const instances = [instance("x"), instance("y")];
    await eventually(() => instances.every((i) => i.conn.status() === "ok"), { timeoutMs: 10_000 });
    let value = 1;
    const topic = `t-${Date.now()}`;
    const sources = instances.map(() => source(() => value));
    const readers = instances.map((i, n) => read(i.live, topic, sources[n]!.fetch));
    await eventually(() => readers.every((r) => r.events.length >= 1), { timeoutMs: 10_000 });

    await redis.kill();
    try {
      value = 2;
      await eventually(() => readers.every((r) => dataOf(r.events).includes(2)), { timeoutMs: 15_000 });
      expect(sources.every((s) => s.calls() > 0)).toBe(true);
    } finally {
      await redis.restart();
    }
    await eventually(() => instances.every((i) => i.conn.status() === "ok"), { timeoutMs: 15_000 });
    await eventually(() => instances.map((i) => i.live.stats().loops).reduce((a, b) => a + b) === 1, {
      timeoutMs: 15_000,
      what: "one loop for the fleet again",
    });
    value = 3;
    await eventually(() => readers.every((r) => dataOf(r.events).includes(3)), { timeoutMs: 15_000 });
    await Promise.all(readers.map((r) => r.stop()));
  });
});

/** Two instances in the fleet; a reader at the first runs a new topic's loop and has its first event. */
async function loopOnOneOfTwo() {
  const [owner, follower] = [instance("owner"), instance("follower")];
  await eventually(() => owner.conn.status() === "ok" && follower.conn.status() === "ok", { timeoutMs: 10_000 });
  const topic = `t-${Date.now()}`;
  const fromOwner = read(owner.live, topic, source(() => 1).fetch);
  await eventually(() => fromOwner.events.length === 1, { timeoutMs: 10_000 });
  return { owner, follower, topic, fromOwner };
}

describe("relays reconcile with the stored latest (issue 19, item 7)", () => {
  it("a publish whose message was lost: the relaying instance catches up within a tick", async () => {
    const { owner, follower, topic, fromOwner } = await loopOnOneOfTwo();
    const relayed = read(follower.live, topic, source(() => 1).fetch);
    await eventually(() => relayed.events.length === 1, { timeoutMs: 10_000 });

    // Kept as the latest, but its message never reached anyone.
    const [loop, seq] = fromOwner.events[0]!.id.split(".");
    const missed = { id: `${loop}.${Number(seq) + 1}`, answer: { status: "ok", data: 2 } };
    await owner.conn.run((redis) => redis.set(latestKey(topic), JSON.stringify(missed), "PX", 600_000));
    await eventually(() => relayed.events.at(-1)?.id === missed.id, {
      timeoutMs: INTERVAL_MS * 10,
      what: "the relaying instance to catch up",
    });
    await Promise.all([fromOwner.stop(), relayed.stop()]);
  });

  it("a new topic never shows a stored latest no loop has confirmed for minutes; its own first answer instead", async () => {
    const first = instance("first");
    await eventually(() => first.conn.status() === "ok", { timeoutMs: 10_000 });
    const topic = `t-${Date.now()}`;
    // Left by a loop that ended nine minutes ago (the key keeps ten).
    const leftOver = { id: "ended.3", answer: { status: "ok", data: 0, fetchedAt: new Date(0).toISOString() } };
    await first.conn.run((redis) => redis.set(latestKey(topic), JSON.stringify(leftOver), "PX", 60_000));
    const reader = read(first.live, topic, source(() => 1).fetch);
    await eventually(() => reader.events.length >= 1, { timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 3));
    expect(dataOf(reader.events)).toEqual([1]);
    await reader.stop();
  });

  it("a loop whose data does not change keeps its latest confirmed: a newcomer shows it at once, without querying", async () => {
    const { follower: newcomer, topic, fromOwner } = await loopOnOneOfTwo();
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 10)); // past the claim's lifetime
    const s2 = source(() => 1);
    const relayed = read(newcomer.live, topic, s2.fetch);
    await eventually(() => relayed.events.length === 1, { timeoutMs: INTERVAL_MS * 10 });
    expect(relayed.events[0]!.id).toBe(fromOwner.events[0]!.id);
    expect(s2.calls()).toBe(0);
    await Promise.all([fromOwner.stop(), relayed.stop()]);
  });
});
