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
 * running its own loop while Redis is down — rejoining one loop when it is back.
 */

const INTERVAL_MS = 100;

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
    relay: createLiveRelay(conn, { prefix: `live-test-${process.pid}:` }),
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
