import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLastKnownGood } from "./last-known-good";
import type { CachedValue } from "./memory-cache";
import type { SharedAnswers } from "./shared-answers";

/** The fleet's shared answers in memory: newest wins, every claim granted. */
function fakeShared(): SharedAnswers & { stored: Map<string, CachedValue<unknown>> } {
  const stored = new Map<string, CachedValue<unknown>>();
  return {
    stored,
    get: async <T>(key: string) => stored.get(key) as CachedValue<T> | undefined,
    async put(key, value, fetchedAt) {
      const held = stored.get(key);
      if (!held || held.fetchedAt < fetchedAt) stored.set(key, { value, fetchedAt });
    },
    claim: async () => true,
    release: async () => undefined,
  };
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
  it("keeps what a fetch got, and never lets an older stamp overwrite a newer one", async () => {
    const kept = createLastKnownGood({ maxBytes: 1_000_000, dataDir: null, freshForMs: 1_000 });
    await kept.fetch("k", async () => ({ value: "newer", fetchedAt: 200 }));
    kept.keep("k", "older", 100);
    expect(kept.peek("k")).toEqual({ value: "newer", fetchedAt: 200 });
    expect(await kept.read("k", 1_000)).toEqual({ value: "newer", fetchedAt: 200 });
  });

  it("reads the fleet's answer when it is newer than this instance's, and keeps it", async () => {
    const shared = fakeShared();
    const now = () => 10_000;
    const kept = createLastKnownGood({ maxBytes: 1_000_000, dataDir: null, freshForMs: 1_000, shared, now });
    kept.keep("k", "mine", 5_000);
    shared.stored.set("k", { value: "theirs", fetchedAt: 9_500 });
    expect(await kept.read("k", 1_000)).toEqual({ value: "theirs", fetchedAt: 9_500 });
    expect(kept.peek("k")).toEqual({ value: "theirs", fetchedAt: 9_500 });
    // Mine fresh: the fleet is not asked.
    shared.stored.set("k", { value: "even newer", fetchedAt: 9_900 });
    expect(await kept.read("k", 1_000)).toEqual({ value: "theirs", fetchedAt: 9_500 });
  });

  it("shares what this instance fetched via the fleet, and not when told to go alone", async () => {
    const shared = fakeShared();
    const kept = createLastKnownGood({ maxBytes: 1_000_000, dataDir: null, freshForMs: 1_000, shared });
    await kept.fetch("a", async () => ({ value: 1, fetchedAt: Date.now() }));
    await kept.fetch("b", async () => ({ value: 2, fetchedAt: Date.now() }), { viaFleet: false });
    expect([...shared.stored.keys()]).toEqual(["a"]);
    expect(kept.peek("b")).toMatchObject({ value: 2 });
  });

  it("writes behind to disk and restores at the next start, except answers stamped in the future", async () => {
    const dataDir = tempDir();
    const first = createLastKnownGood({ maxBytes: 1_000_000, dataDir, freshForMs: 1_000, now: () => 1_000 });
    first.keep("past", "kept", 900);
    first.keep("future", "not trusted", 5_000);
    await first.close();
    const second = createLastKnownGood({ maxBytes: 1_000_000, dataDir, freshForMs: 1_000, now: () => 1_000 });
    expect(second.peek("past")).toEqual({ value: "kept", fetchedAt: 900 });
    expect(second.peek("future")).toBeUndefined();
    await second.close();
  });
});
