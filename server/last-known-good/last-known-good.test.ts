import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLastKnownGood } from "./last-known-good";
import { type InMemorySharedAnswers, inMemorySharedAnswers } from "./testing/in-memory-shared-answers";

/** A clock a test moves by hand; `skewMs` gives an instance a clock of its own. */
function manualClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms), skewed: (skewMs: number) => () => t + skewMs };
}

/** An instance's last-known-good over the in-memory fleet store, on `now`. */
function fleetInstance(redis: InMemorySharedAnswers, id: string, now: () => number) {
  return createLastKnownGood({
    maxBytes: 1_000_000,
    dataDir: null,
    freshForMs: 1_000,
    shared: redis.forInstance(id),
    now,
  });
}

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lkg-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("last-known-good", () => {
  it("gives each fetch a version above every one kept, and never lets a lower version overwrite a higher one", async () => {
    const kept = createLastKnownGood({ maxBytes: 1_000_000, dataDir: null, freshForMs: 1_000 });
    const first = await kept.fetch("k", async () => ({ value: "first", fetchedAt: 200 }));
    const second = await kept.fetch("k", async () => ({ value: "second", fetchedAt: 100 })); // a clock stepped back
    expect(second.version).toBeGreaterThan(first.version);
    expect(kept.peek("k")).toMatchObject({ value: "second" });
    kept.keep("k", { value: "older", fetchedAt: 900, version: first.version });
    expect(kept.peek("k")).toEqual({ value: "second", fetchedAt: 100, version: second.version });
  });

  it("reads the fleet's answer when its version is higher, aged by Redis's clock, and keeps it", async () => {
    const clock = manualClock();
    const redis = inMemorySharedAnswers(clock.now);
    const kept = fleetInstance(redis, "b", clock.now);
    kept.keep("k", { value: "mine", fetchedAt: clock.now() + 5_000, version: 1 }); // stamped later, but older
    await redis.forInstance("a").put("k", "theirs", 2, clock.now());
    clock.advance(6_500);
    expect(await kept.read("k", 1_000)).toEqual({ value: "theirs", fetchedAt: clock.now() - 6_500, version: 2 });
    expect(kept.peek("k")).toMatchObject({ value: "theirs", version: 2 });
    // A lower version from the fleet is not taken.
    redis.answers.set("k", { value: "stale", version: 1, publishedAt: clock.now(), fetchedAt: clock.now() });
    expect(await kept.read("k", 1_000)).toMatchObject({ value: "theirs", version: 2 });
  });

  it("an instance 60 s ahead: another reuses its answer for the reuse window, then queries itself", async () => {
    const clock = manualClock();
    const redis = inMemorySharedAnswers(clock.now);
    const ahead = fleetInstance(redis, "ahead", clock.skewed(60_000));
    const b = fleetInstance(redis, "b", clock.now);
    await ahead.fetch("k", async () => ({ value: "ahead's", fetchedAt: clock.now() + 60_000 }));
    const queries: string[] = [];
    const own = async () => {
      queries.push("b");
      return { value: "b's", fetchedAt: clock.now() };
    };
    expect(await b.fetch("k", own)).toMatchObject({ value: "ahead's", fetchedAt: clock.now() });
    clock.advance(1_001);
    expect(await b.read("k", 1_000)).toMatchObject({ value: "ahead's", fetchedAt: clock.now() - 1_001 });
    expect(await b.fetch("k", own)).toMatchObject({ value: "b's" });
    expect(queries).toEqual(["b"]);
  });

  it("a live loop's shorter window holds through the fleet", async () => {
    const clock = manualClock();
    const redis = inMemorySharedAnswers(clock.now);
    await redis.forInstance("a").put("k", "a's", 1, clock.now());
    clock.advance(700);
    const b = fleetInstance(redis, "b", clock.now);
    const own = async () => ({ value: "b's", fetchedAt: clock.now() });
    expect(await b.fetch("k", own, { freshForMs: 500 })).toMatchObject({ value: "b's", version: 2 });
    expect(redis.answers.get("k")).toMatchObject({ value: "b's", version: 2 });
  });

  it("a stamp in the future counts as now, from then on: fresh for one window, not until the clock catches up", async () => {
    const clock = manualClock();
    const kept = createLastKnownGood({ maxBytes: 1_000_000, dataDir: null, freshForMs: 1_000, now: clock.now });
    kept.keep("k", { value: "v", fetchedAt: clock.now() + 60_000, version: 1 });
    expect(await kept.read("k", 1_000)).toMatchObject({ fetchedAt: clock.now() });
    clock.advance(1_500);
    expect((await kept.read("k", 1_000))!.fetchedAt).toBe(clock.now() - 1_500);
  });

  it("without Redis, versions come from this instance's sequence, above what the fleet gave", async () => {
    const clock = manualClock();
    const redis = inMemorySharedAnswers(clock.now);
    const kept = fleetInstance(redis, "a", clock.now);
    const own = (value: string) => async () => ({ value, fetchedAt: clock.now() });
    const viaRedis = await kept.fetch("k", own("via Redis"));
    redis.down = true;
    const alone = await kept.fetch("k", own("alone"));
    expect(alone.version).toBeGreaterThan(viaRedis.version);
    redis.down = false;
    // Back: the fleet's next version is above the one this instance made alone.
    expect((await kept.fetch("k", own("back"))).version).toBeGreaterThan(alone.version);
  });

  it("writes behind to disk with versions and restores at the next start, except answers stamped in the future", async () => {
    const dataDir = tempDir();
    const first = createLastKnownGood({ maxBytes: 1_000_000, dataDir, freshForMs: 1_000, now: () => 1_000 });
    first.keep("past", { value: "kept", fetchedAt: 900, version: 4 });
    first.keep("future", { value: "not trusted", fetchedAt: 5_000, version: 5 });
    await first.close();
    const second = createLastKnownGood({ maxBytes: 1_000_000, dataDir, freshForMs: 1_000, now: () => 1_000 });
    expect(second.peek("past")).toMatchObject({ value: "kept", fetchedAt: 900 });
    expect(second.peek("future")).toBeUndefined();
    // A new fetch is newer than what was loaded (version 0 when the store kept none).
    const fetched = await second.fetch("past", async () => ({ value: "new", fetchedAt: 1_000 }));
    expect(fetched.version).toBeGreaterThanOrEqual(1);
    expect(second.peek("past")).toMatchObject({ value: "new", version: fetched.version });
    await second.close();
  });
});
