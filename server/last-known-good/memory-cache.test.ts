import { describe, expect, it } from "vitest";
import { LastKnownGoodCache, cacheKey, estimateBytes } from "./memory-cache";

describe("LastKnownGoodCache", () => {
  it("is bounded in bytes: the least recently used entries on probation go first", () => {
    const cache = new LastKnownGoodCache({ maxBytes: 1_000, protectedShare: 0.5 });
    cache.set("a", "A", 1, 300);
    cache.set("b", "B", 2, 300);
    cache.set("c", "C", 3, 300);
    cache.set("d", "D", 4, 300); // 1,200 bytes: a goes
    expect(cache.peek("a")).toBeUndefined();
    expect(cache.bytes).toBe(900);
    expect(cache.size).toBe(3);
  });

  it("an entry asked for again is protected: a flood of distinct inputs asked once cannot evict it", () => {
    const cache = new LastKnownGoodCache({ maxBytes: 10_000, protectedShare: 0.8 });
    cache.set("panel", [1, 2, 3], 1, 500);
    expect(cache.get("panel")).toEqual({ value: [1, 2, 3], fetchedAt: 1 }); // second use → protected
    for (let i = 0; i < 2_000; i++) cache.set(`flood-${i}`, i, 10 + i, 500);
    expect(cache.get("panel")).toEqual({ value: [1, 2, 3], fetchedAt: 1 });
    expect(cache.bytes).toBeLessThanOrEqual(10_000);
    expect(cache.peek("flood-0")).toBeUndefined();
    expect(cache.peek("flood-1999")).toBeDefined();
  });

  it("peek does not count as a use: it never protects an entry", () => {
    const cache = new LastKnownGoodCache({ maxBytes: 1_000, protectedShare: 0.5 });
    cache.set("once", 1, 1, 400);
    cache.peek("once");
    cache.set("x", 2, 2, 400);
    cache.set("y", 3, 3, 400);
    expect(cache.peek("once")).toBeUndefined();
  });

  it("protected entries out of use go back to probation when the protected share is full", () => {
    const cache = new LastKnownGoodCache({ maxBytes: 1_000, protectedShare: 0.5 });
    for (const key of ["p1", "p2", "p3"]) {
      cache.set(key, key, 1, 200);
      cache.get(key);
    }
    // 600 bytes protected > 500: p1, the least recently used, went back to probation.
    expect(cache.peek("p1")).toBeDefined();
    cache.set("n1", "n1", 2, 200);
    cache.set("n2", "n2", 3, 200);
    cache.set("n3", "n3", 4, 200); // 1,200 bytes: probation's oldest, p1, goes
    expect(cache.peek("p1")).toBeUndefined();
    expect(cache.peek("p2")).toBeDefined();
    expect(cache.peek("p3")).toBeDefined();
  });

  it("does not keep one answer larger than probation's share, which would evict everything else", () => {
    const cache = new LastKnownGoodCache({ maxBytes: 1_000, protectedShare: 0.8 });
    cache.set("small", 1, 1, 100);
    cache.set("huge", 2, 2, 900);
    expect(cache.peek("huge")).toBeUndefined();
    expect(cache.peek("small")).toBeDefined();
  });

  it("never lets an older fetch overwrite a newer one", () => {
    const cache = new LastKnownGoodCache({ maxBytes: 10_000 });
    cache.set("a", "new", 200);
    cache.set("a", "old", 100);
    expect(cache.get("a")).toEqual({ value: "new", fetchedAt: 200 });
  });

  it("estimates an answer's size from one sample row", () => {
    const rows = Array.from({ length: 1_000 }, (_, i) => ({
      time: "2026-11-28T00:00:00.000Z",
      open: i,
      high: i,
      low: i,
      close: i,
      volume: i,
    }));
    const estimate = estimateBytes(rows);
    const actual = 2 * JSON.stringify(rows).length;
    expect(estimate).toBeGreaterThan(actual * 0.7);
    expect(estimate).toBeLessThan(actual * 1.5);
  });

  it("builds the same key for the same input whatever the key order", () => {
    expect(cacheKey("m.c", { symbol: "BTC-USD", interval: "1m" })).toBe(
      cacheKey("m.c", { interval: "1m", symbol: "BTC-USD" }),
    );
    expect(cacheKey("m.c", { limit: 1 })).not.toBe(cacheKey("m.c", { limit: 2 }));
    expect(cacheKey("a", { x: 1 })).not.toBe(cacheKey("b", { x: 1 }));
  });
});
