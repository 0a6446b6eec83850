import { describe, expect, it } from "vitest";
import { LastKnownGoodCache, cacheKey, measureBytes } from "./memory-cache";

/** An answer whose version follows its fetch time, as on one instance with a steady clock. */
const at = <T>(value: T, fetchedAt: number) => ({ value, fetchedAt, version: fetchedAt });

describe("LastKnownGoodCache", () => {
  it("is bounded in bytes: the least recently used entries on probation go first", () => {
    const cache = new LastKnownGoodCache({ maxBytes: 1_000, protectedShare: 0.5 });
    cache.set("a", at("A", 1), 300);
    cache.set("b", at("B", 2), 300);
    cache.set("c", at("C", 3), 300);
    cache.set("d", at("D", 4), 300); // 1,200 bytes: a goes
    expect(cache.peek("a")).toBeUndefined();
    expect(cache.bytes).toBe(900);
    expect(cache.size).toBe(3);
  });

  it("an entry asked for again is protected: a flood of distinct inputs asked once cannot evict it", () => {
    const cache = new LastKnownGoodCache({ maxBytes: 10_000, protectedShare: 0.8 });
    cache.set("panel", at([1, 2, 3], 1), 500);
    expect(cache.get("panel")).toEqual({ value: [1, 2, 3], fetchedAt: 1, version: 1 }); // second use → protected
    for (let i = 0; i < 2_000; i++) cache.set(`flood-${i}`, at(i, 10 + i), 500);
    expect(cache.get("panel")).toEqual({ value: [1, 2, 3], fetchedAt: 1, version: 1 });
    expect(cache.bytes).toBeLessThanOrEqual(10_000);
    expect(cache.peek("flood-0")).toBeUndefined();
    expect(cache.peek("flood-1999")).toBeDefined();
  });

  it("peek does not count as a use: it never protects an entry", () => {
    const cache = new LastKnownGoodCache({ maxBytes: 1_000, protectedShare: 0.5 });
    cache.set("once", at(1, 1), 400);
    cache.peek("once");
    cache.set("x", at(2, 2), 400);
    cache.set("y", at(3, 3), 400);
    expect(cache.peek("once")).toBeUndefined();
  });

  it("protected entries out of use go back to probation when the protected share is full", () => {
    const cache = new LastKnownGoodCache({ maxBytes: 1_000, protectedShare: 0.5 });
    for (const key of ["p1", "p2", "p3"]) {
      cache.set(key, at(key, 1), 200);
      cache.get(key);
    }
    // 600 bytes protected > 500: p1, the least recently used, went back to probation.
    expect(cache.peek("p1")).toBeDefined();
    cache.set("n1", at("n1", 2), 200);
    cache.set("n2", at("n2", 3), 200);
    cache.set("n3", at("n3", 4), 200); // 1,200 bytes: probation's oldest, p1, goes
    expect(cache.peek("p1")).toBeUndefined();
    expect(cache.peek("p2")).toBeDefined();
    expect(cache.peek("p3")).toBeDefined();
  });

  it("does not keep one answer larger than probation's share, which would evict everything else", () => {
    const cache = new LastKnownGoodCache({ maxBytes: 1_000, protectedShare: 0.8 });
    cache.set("small", at(1, 1), 100);
    cache.set("huge", at(2, 2), 900);
    expect(cache.peek("huge")).toBeUndefined();
    expect(cache.peek("small")).toBeDefined();
  });

  it("orders by version, not by the clock: a lower version never overwrites a higher one", () => {
    const cache = new LastKnownGoodCache({ maxBytes: 10_000 });
    cache.set("a", { value: "newer query", fetchedAt: 100, version: 7 });
    // Stamped later (a slow query, or a clock that runs ahead), but claimed earlier: older.
    expect(cache.set("a", { value: "older query", fetchedAt: 500, version: 6 })).toBe(false);
    expect(cache.get("a")).toEqual({ value: "newer query", fetchedAt: 100, version: 7 });
    expect(cache.set("a", { value: "newest", fetchedAt: 50, version: 8 })).toBe(true);
    expect(cache.peek("a")).toEqual({ value: "newest", fetchedAt: 50, version: 8 });
  });

  it("measures an answer's size whole: rows of different sizes are not estimated from the first", () => {
    const rows = [{ id: 1 }, ...Array.from({ length: 999 }, (_, i) => ({ id: i, note: "x".repeat(300) }))];
    const serialized = Buffer.byteLength(JSON.stringify(rows), "utf8");
    expect(measureBytes(rows)).toBeGreaterThanOrEqual(serialized);
    expect(measureBytes(rows)).toBeLessThan(serialized + 1_000);
    expect(measureBytes("é")).toBeGreaterThan(measureBytes("e")); // bytes, not characters
    expect(measureBytes(BigInt(1))).toBeGreaterThan(0); // what JSON cannot hold does not throw
  });

  it("keeps its byte bound with measured sizes", () => {
    const cache = new LastKnownGoodCache({ maxBytes: 20_000 });
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, at([{ id: 1 }, { note: "y".repeat(1_000) }], i + 1));
    expect(cache.bytes).toBeLessThanOrEqual(20_000);
    expect(cache.size).toBeGreaterThan(10);
  });

  it("builds the same key for the same input whatever the key order", () => {
    expect(cacheKey("m.c", { symbol: "BTC-USD", interval: "1m" })).toBe(
      cacheKey("m.c", { interval: "1m", symbol: "BTC-USD" }),
    );
    expect(cacheKey("m.c", { limit: 1 })).not.toBe(cacheKey("m.c", { limit: 2 }));
    expect(cacheKey("a", { x: 1 })).not.toBe(cacheKey("b", { x: 1 }));
  });
});
