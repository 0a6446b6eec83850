import { describe, expect, it } from "vitest";
import { fingerprintOf, isSameOrOlder } from "./changes";

describe("what counts as a change", () => {
  it("fingerprints ignore fetchedAt only", () => {
    expect(fingerprintOf({ status: "ok", data: [1], fetchedAt: "a" })).toBe(
      fingerprintOf({ status: "ok", data: [1], fetchedAt: "b" }),
    );
    expect(fingerprintOf({ status: "ok", data: [1], fetchedAt: "a", version: 1 })).toBe(
      fingerprintOf({ status: "ok", data: [1], fetchedAt: "b", version: 2 }),
    );
    expect(fingerprintOf({ status: "degraded", data: [1], cachedAt: "a" })).not.toBe(
      fingerprintOf({ status: "degraded", data: [1], cachedAt: "b" }),
    );
  });

  it("an id is same-or-older only within its own loop", () => {
    expect(isSameOrOlder("a1.2", "a1.2")).toBe(true);
    expect(isSameOrOlder("a1.2", "a1.10")).toBe(true);
    expect(isSameOrOlder("a1.3", "a1.2")).toBe(false);
    expect(isSameOrOlder("b2.1", "a1.9")).toBe(false);
    expect(isSameOrOlder("a1.1", null)).toBe(false);
  });
});
