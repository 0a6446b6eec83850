import { describe, expect, it } from "vitest";
import { LastKnownGoodCache, cacheKey } from "./cache";

describe("LastKnownGoodCache", () => {
  it("keeps at most maxEntries, dropping the least recently used", () => {
    const cache = new LastKnownGoodCache(2);
    cache.set("a", 1, 1);
    cache.set("b", 2, 2);
    cache.get("a"); // a is now the most recently used
    cache.set("c", 3, 3);
    expect(cache.size).toBe(2);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toEqual({ value: 1, fetchedAt: 1 });
    expect(cache.get("c")).toEqual({ value: 3, fetchedAt: 3 });
  });

  it("never lets an older fetch overwrite a newer one", () => {
    const cache = new LastKnownGoodCache(10);
    cache.set("a", "new", 200);
    cache.set("a", "old", 100);
    expect(cache.get("a")).toEqual({ value: "new", fetchedAt: 200 });
  });

  it("builds the same key for the same input whatever the key order", () => {
    expect(cacheKey("m.c", { symbol: "BTC-USD", interval: "1m" })).toBe(cacheKey("m.c", { interval: "1m", symbol: "BTC-USD" }));
    expect(cacheKey("m.c", { limit: 1 })).not.toBe(cacheKey("m.c", { limit: 2 }));
    expect(cacheKey("a", { x: 1 })).not.toBe(cacheKey("b", { x: 1 }));
  });
});
