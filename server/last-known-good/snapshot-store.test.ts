import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LEGACY_SNAPSHOT_FILE, SNAPSHOT_FILE, SnapshotStore, type SnapshotStoreOptions } from "./snapshot-store";

// Captured before any test fakes the timers: real waits let real file I/O finish.
const realSetTimeout = globalThis.setTimeout;
const settleIo = () => new Promise<void>((resolve) => realSetTimeout(resolve, 50));

let dir: string;
let events: Array<{ event: string; fields: Record<string, unknown> }>;

function storeIn(options: Partial<SnapshotStoreOptions> = {}): SnapshotStore {
  return new SnapshotStore({
    dir,
    maxBytes: 1024 * 1024,
    writeDelayMs: 1000,
    log: (event, fields) => events.push({ event, fields }),
    ...options,
  });
}

const snapshotFile = () => path.join(dir, SNAPSHOT_FILE);
const legacyFile = () => path.join(dir, LEGACY_SNAPSHOT_FILE);
const filesInDir = () => readdirSync(dir).sort();
const eventsNamed = (name: string) => events.filter((e) => e.event === name);

/** A snapshot written by an earlier run of the app, as the next start finds it. */
async function savedByEarlierRun(...entries: Array<[key: string, value: unknown, fetchedAt: number]>): Promise<void> {
  const earlier = storeIn();
  for (const [key, value, fetchedAt] of entries) earlier.record(key, value, fetchedAt);
  await earlier.close();
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "snapshot-store-"));
  events = [];
});

afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

describe("round trip", () => {
  it("gives a new store the key, value and fetchedAt recorded by the last one", async () => {
    const first = storeIn();
    expect(first.load()).toEqual([]);
    const sessions = [{ sessionId: "s-1", pnl: 12.5, mode: "live" }];
    first.record('sessions.active:{"limit":50}', sessions, 1_700_000_000_123);
    first.record("market.candles:x", { nested: [1, "two", null] }, 1_700_000_000_456);
    await first.close();

    const loaded = storeIn().load();
    expect(loaded).toHaveLength(2);
    expect(loaded).toContainEqual({
      key: 'sessions.active:{"limit":50}',
      value: sessions,
      fetchedAt: 1_700_000_000_123,
      version: 0,
    });
    expect(loaded).toContainEqual({
      key: "market.candles:x",
      value: { nested: [1, "two", null] },
      fetchedAt: 1_700_000_000_456,
      version: 0,
    });
    expect(events).toEqual([]);
  });

  it("writes the documented format: a header, then one line per entry", async () => {
    const store = storeIn();
    store.record("k", { a: 1 }, 42);
    store.record("v", "x", 43, 7);
    await store.flush();
    const lines = readFileSync(snapshotFile(), "utf8").split("\n");
    expect(lines.map((line) => (line ? JSON.parse(line) : line))).toEqual([
      { format: "last-known-good-log", version: 2 },
      { op: "put", key: "k", fetchedAt: 42, version: 0, value: { a: 1 } },
      { op: "put", key: "v", fetchedAt: 43, version: 7, value: "x" },
      "",
    ]);
  });

  it("keeps what it loaded when it writes again, so an answer not asked for since the restart survives", async () => {
    await savedByEarlierRun(["old", "kept", 1]);
    const second = storeIn();
    second.load();
    second.record("new", "added", 2);
    await second.close();
    expect(
      storeIn()
        .load()
        .map((e) => e.key)
        .sort(),
    ).toEqual(["new", "old"]);
  });
});

describe("write-behind", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  });

  it("does not write when recording, only once the delay has passed", async () => {
    const store = storeIn();
    store.record("k", 1, 1);
    await vi.advanceTimersByTimeAsync(999);
    await settleIo();
    expect(existsSync(snapshotFile())).toBe(false);
    expect(store.writes).toBe(0);

    await vi.advanceTimersByTimeAsync(1);
    await store.flush(); // waits for the write the timer started
    expect(store.writes).toBe(1);
    expect(storeIn().load()).toEqual([{ key: "k", value: 1, fetchedAt: 1, version: 0 }]);
  });

  it("coalesces many records within the delay into one write", async () => {
    const store = storeIn();
    for (let i = 0; i < 100; i++) {
      store.record(`k${i % 10}`, i, i);
      await vi.advanceTimersByTimeAsync(5);
    }
    await vi.advanceTimersByTimeAsync(1000);
    await store.flush();
    expect(store.writes).toBe(1);
    const loaded = storeIn().load();
    expect(loaded).toHaveLength(10);
    expect(loaded).toContainEqual({ key: "k3", value: 93, fetchedAt: 93, version: 0 });
  });

  it("still writes every delay under steady traffic (the timer is not pushed back by each record)", async () => {
    const store = storeIn();
    for (let t = 0; t < 3000; t += 100) {
      store.record("k", t, t);
      await vi.advanceTimersByTimeAsync(100);
      // Let the write a timer just started finish in real time, as it would between real seconds.
      if ((t + 100) % 1000 === 0) await settleIo();
    }
    await store.flush();
    // Timers fired at 1000, 2000 and 3000 ms; a debounced timer would have written once, at the end.
    expect(store.writes).toBe(3);
  });

  it("writes nothing when nothing was recorded, and stops its timer on close", async () => {
    const store = storeIn();
    await store.flush();
    expect(existsSync(snapshotFile())).toBe(false);
    store.record("k", 1, 1);
    await store.close();
    expect(store.writes).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    store.record("after-close", 2, 2);
    expect(vi.getTimerCount()).toBe(0);
    await store.flush();
    expect(
      storeIn()
        .load()
        .map((e) => e.key),
    ).toEqual(["k"]);
  });
});

describe("newer wins", () => {
  it("ignores an answer older than the one held", async () => {
    const store = storeIn();
    store.record("k", "newer", 200);
    store.record("k", "older", 100);
    await store.flush();
    expect(storeIn().load()).toEqual([{ key: "k", value: "newer", fetchedAt: 200, version: 0 }]);
  });

  it("ignores an answer older than the one loaded from disk", async () => {
    await savedByEarlierRun(["k", "saved", 200]);
    const second = storeIn();
    second.load();
    second.record("k", "late-and-older", 100);
    second.record("other", "x", 300);
    await second.close();
    expect(storeIn().load()).toContainEqual({ key: "k", value: "saved", fetchedAt: 200, version: 0 });
  });
});

describe("bounded by maxBytes", () => {
  it("keeps the newest entries that fit and forgets the oldest", async () => {
    const maxBytes = 600;
    const store = storeIn({ maxBytes });
    for (let i = 0; i < 20; i++) store.record(`key-${i}`, "x".repeat(60), 1000 + i);
    await store.flush();

    expect(statSync(snapshotFile()).size).toBeLessThanOrEqual(maxBytes);
    const kept = storeIn()
      .load()
      .map((e) => e.fetchedAt)
      .sort((a, b) => b - a);
    expect(kept.length).toBeGreaterThan(3);
    expect(kept.length).toBeLessThan(20);
    // The kept ones are exactly the newest ones, none skipped.
    expect(kept).toEqual(kept.map((_, i) => 1019 - i));
  });

  it("skips one entry too large for the whole budget but keeps the rest", async () => {
    const store = storeIn({ maxBytes: 400 });
    store.record("small-old", "a", 1);
    store.record("huge-new", "y".repeat(1000), 2);
    await store.flush();
    expect(storeIn({ maxBytes: 400 }).load()).toEqual([{ key: "small-old", value: "a", fetchedAt: 1, version: 0 }]);
  });

  it("counts bytes, not characters, for non-ASCII text", async () => {
    const store = storeIn({ maxBytes: 300 });
    for (let i = 0; i < 10; i++) store.record(`k${i}`, "é€".repeat(20), i);
    await store.flush();
    expect(statSync(snapshotFile()).size).toBeLessThanOrEqual(300);
  });
});

describe("atomic writes", () => {
  async function savedSnapshot(): Promise<SnapshotStore> {
    const store = storeIn();
    store.record("k", "good", 1);
    await store.flush();
    return store;
  }

  it("leaves only the snapshot behind: no temporary file after a write", async () => {
    await savedSnapshot();
    expect(filesInDir()).toEqual([SNAPSHOT_FILE]);
  });

  it("ignores a half-written temporary file left by a crash before its rename", async () => {
    await savedSnapshot();
    writeFileSync(path.join(dir, `${SNAPSHOT_FILE}.tmp-99999`), '{"version":1,"savedAt":5,"entries":[{"key":"k","fetc');
    expect(storeIn().load()).toEqual([{ key: "k", value: "good", fetchedAt: 1, version: 0 }]);
    expect(events).toEqual([]);
  });

  it("names its temporary files uniquely: another process's (by pid, as pid 1 in every container) is no obstacle", async () => {
    const store = await savedSnapshot();
    // Today's code named its temporary file by pid: a directory there made every write fail.
    mkdirSync(`${snapshotFile()}.tmp-${process.pid}`);
    store.record("other", "saved", 2);
    await store.close();
    expect(eventsNamed("store.write_failed")).toEqual([]);
    expect(storeIn().load()).toContainEqual({ key: "other", value: "saved", fetchedAt: 2, version: 0 });
  });
});

// Root reads a file whatever its mode: the permission case only means something for other users.
const asRoot = process.getuid?.() === 0;

/** The file was reported once, moved aside (content kept for a post-mortem), and nothing loaded. */
function expectSetAside(loaded: unknown, original: string | null, file = legacyFile()) {
  expect(loaded).toEqual([]);
  const reports = eventsNamed("store.unreadable");
  expect(reports).toHaveLength(1);
  expect(reports[0]?.fields.file).toBe(file);
  expect(String(reports[0]?.fields.error).trim()).not.toBe("");
  expect(existsSync(file)).toBe(false);
  const aside = filesInDir().filter((f) => f.startsWith(`${path.basename(file)}.corrupt-`));
  expect(aside).toHaveLength(1);
  expect(reports[0]?.fields.movedTo).toBe(path.join(dir, aside[0] as string));
  if (original !== null) expect(readFileSync(path.join(dir, aside[0] as string), "utf8")).toBe(original);
}

describe("an unusable single-file snapshot (the format of earlier versions)", () => {
  it.each([
    ["garbage", "\u0000\u0001not json at all"],
    ["truncated JSON", '{"version":1,"savedAt":1,"entries":[{"key":"k"'],
    ["an empty file", ""],
    ["JSON of the wrong shape", '{"hello":"world"}'],
    ["a JSON array", "[1,2,3]"],
    ["entries not a list", '{"version":1,"savedAt":1,"entries":{}}'],
  ])("%s: reported once, loaded as empty, moved aside", (_name, content) => {
    writeFileSync(legacyFile(), content);
    const store = storeIn();
    expectSetAside(store.load(), content);
  });

  it("a directory in place of the file: reported once, loaded as empty, moved aside", () => {
    mkdirSync(legacyFile());
    expectSetAside(storeIn().load(), null);
    expect(eventsNamed("store.unreadable")[0]?.fields.error).toMatch(/EISDIR|directory/i);
  });

  it("a directory in place of the log: reported once, loaded as empty, moved aside", () => {
    mkdirSync(snapshotFile());
    expectSetAside(storeIn().load(), null, snapshotFile());
  });

  it.skipIf(asRoot)("a file it may not read: reported once, loaded as empty, moved aside", () => {
    writeFileSync(legacyFile(), '{"version":1,"savedAt":1,"entries":[]}');
    chmodSync(legacyFile(), 0o000);
    expectSetAside(storeIn().load(), null);
    expect(eventsNamed("store.unreadable")[0]?.fields.error).toMatch(/EACCES|permission/i);
  });
});

describe("after an unusable snapshot", () => {
  it("is not read again at the next start, and a new snapshot replaces it", async () => {
    writeFileSync(legacyFile(), "garbage");
    const store = storeIn();
    store.load();
    store.record("k", "fresh", 5);
    await store.close();

    events = [];
    expect(storeIn().load()).toEqual([{ key: "k", value: "fresh", fetchedAt: 5, version: 0 }]);
    expect(events).toEqual([]);
  });

  it("never throws, even when it cannot be moved aside", () => {
    // The data directory is itself a file: reading fails (ENOTDIR) and so does the rename.
    rmSync(dir, { recursive: true });
    writeFileSync(dir, "not a directory");
    try {
      const loaded = storeIn().load();
      expect(loaded).toEqual([]);
      expect(eventsNamed("store.unreadable")).toHaveLength(1);
      expect(String(eventsNamed("store.unreadable")[0]?.fields.moveError)).not.toBe("");
    } finally {
      rmSync(dir, { force: true });
    }
  });
});

describe("a failing write", () => {
  it("is logged once per run of failures, never thrown, and retried by the next write", async () => {
    const store = storeIn();
    store.load();
    store.record("k", 1, 1);
    await store.flush();
    rmSync(dir, { recursive: true, force: true });

    store.record("k", 2, 2);
    await expect(store.flush()).resolves.toBeUndefined();
    store.record("k", 3, 3);
    await store.flush();
    const failures = eventsNamed("store.write_failed");
    expect(failures).toHaveLength(1);
    expect(failures[0]?.fields).toMatchObject({ file: snapshotFile(), error: expect.stringMatching(/ENOENT/) });

    mkdirSync(dir);
    await store.flush(); // still dirty from the failed write: tries again without a new record
    expect(eventsNamed("store.write_recovered")).toHaveLength(1);
    expect(storeIn().load()).toEqual([{ key: "k", value: 3, fetchedAt: 3, version: 0 }]);
  });

  it("creates the data directory on the first write", async () => {
    const nested = path.join(dir, "a", "b");
    const store = storeIn({ dir: nested });
    expect(store.load()).toEqual([]);
    store.record("k", 1, 1);
    await store.close();
    expect(existsSync(path.join(nested, SNAPSHOT_FILE))).toBe(true);
    expect(events).toEqual([]);
  });

  it("drops a value JSON cannot hold, with one log line, and still writes the others", async () => {
    const store = storeIn();
    store.record("bad", { big: 1n }, 2);
    store.record("good", "ok", 1);
    await store.flush();
    expect(eventsNamed("store.entry_unserialisable")).toEqual([
      {
        event: "store.entry_unserialisable",
        fields: expect.objectContaining({ key: "bad", error: expect.any(String) }),
      },
    ]);
    expect(storeIn().load()).toEqual([{ key: "good", value: "ok", fetchedAt: 1, version: 0 }]);
  });
});

describe("writes follow the change, not the size", () => {
  const big = (i: number) => Array.from({ length: 200 }, (_, row) => ({ row, symbol: `S${i}`, price: 100 + row }));

  async function storeOf100BigEntries(): Promise<{ store: SnapshotStore; size: number }> {
    const store = storeIn({ maxBytes: 64 * 1024 * 1024 });
    for (let i = 0; i < 100; i++) store.record(`k${i}`, big(i), 1_000 + i);
    await store.flush();
    return { store, size: statSync(snapshotFile()).size };
  }

  it("writes about one entry's bytes when one entry changes, not the whole store", async () => {
    const { store, size } = await storeOf100BigEntries();
    const changed = big(7);
    changed[199] = { row: 199, symbol: "S7", price: 1 }; // a one-field change
    store.record("k7", changed, 5_000);
    await store.flush();
    const written = statSync(snapshotFile()).size - size;
    // Today's code rewrote the whole snapshot: `written` was 0 (same size), the file replaced whole.
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(size / 50);
    expect(storeIn().load()).toContainEqual({ key: "k7", value: changed, fetchedAt: 5_000, version: 0 });
  });

  it("writes only the new stamp when an answer is fetched again unchanged", async () => {
    const { store, size } = await storeOf100BigEntries();
    store.record("k3", big(3), 9_000);
    await store.flush();
    expect(statSync(snapshotFile()).size - size).toBeLessThan(100);
    expect(storeIn().load()).toContainEqual({ key: "k3", value: big(3), fetchedAt: 9_000, version: 0 });
  });

  it("compacts the log once it is a few times the live entries, keeping every entry's last answer", async () => {
    const store = storeIn({ maxBytes: 64 * 1024 * 1024 });
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 10; i++) store.record(`k${i}`, big(round * 10 + i), round * 10 + i);
      await store.flush();
    }
    const live = Buffer.byteLength(JSON.stringify(big(0))) * 10;
    expect(statSync(snapshotFile()).size).toBeLessThan(Math.max(4 * live, 300 * 1024));
    const loaded = storeIn().load();
    expect(loaded).toHaveLength(10);
    expect(loaded).toContainEqual({ key: "k9", value: big(399), fetchedAt: 399, version: 0 });
  });
});

describe("versions", () => {
  it("keeps the version beside fetchedAt, and orders by it before the stamp", async () => {
    const store = storeIn();
    store.record("k", "v5", 100, 5);
    store.record("k", "v4 with a later stamp", 200, 4);
    await store.close();
    expect(storeIn().load()).toEqual([{ key: "k", value: "v5", fetchedAt: 100, version: 5 }]);
  });
});

describe("only what the memory cache keeps", () => {
  it("forgets an entry, also on disk", async () => {
    const store = storeIn();
    store.record("a", 1, 1);
    store.record("b", 2, 2);
    await store.flush();
    store.forget("a");
    await store.close();
    expect(storeIn().load()).toEqual([{ key: "b", value: 2, fetchedAt: 2, version: 0 }]);
  });

  it("forgets, at the next write, every entry `retain` no longer wants", async () => {
    const cache = new Set(["a", "b", "c"]);
    const store = storeIn({ retain: (key) => cache.has(key) });
    for (const key of cache) store.record(key, key, 1);
    await store.flush();
    cache.delete("a"); // evicted by the cache
    cache.add("d");
    store.record("d", "d", 2);
    await store.close();
    expect(
      storeIn()
        .load()
        .map((e) => e.key)
        .sort(),
    ).toEqual(["b", "c", "d"]);
  });
});

describe("a bad entry costs that entry, never the others", () => {
  const v1 = (entries: unknown[]) => JSON.stringify({ version: 1, savedAt: 1, entries });

  it("reads a snapshot in the single-file format of the previous version, and keeps it for a rollback", async () => {
    // As the code before the log wrote it (server/last-known-good/snapshot-store.ts at c301084).
    const today = v1([
      { key: "sessions.active:{}", fetchedAt: 1_700_000_000_000, value: [{ sessionId: "s-1" }] },
      { key: "market.candles:x", fetchedAt: 1_700_000_000_500, value: { rows: [1, 2] } },
    ]);
    writeFileSync(legacyFile(), today);
    const store = storeIn();
    expect(store.load()).toEqual([
      { key: "sessions.active:{}", value: [{ sessionId: "s-1" }], fetchedAt: 1_700_000_000_000, version: 0 },
      { key: "market.candles:x", value: { rows: [1, 2] }, fetchedAt: 1_700_000_000_500, version: 0 },
    ]);
    await store.close();
    expect(readFileSync(legacyFile(), "utf8")).toBe(today);
    expect(storeIn().load()).toHaveLength(2);
    expect(events).toEqual([]);
  });

  it.each([
    ["fetchedAt: null", { key: "bad", fetchedAt: null, value: 1 }],
    ["fetchedAt a string", { key: "bad", fetchedAt: "yesterday", value: 1 }],
    ["no value", { key: "bad", fetchedAt: 1 }],
    ["no key", { fetchedAt: 1, value: 1 }],
    ["not an object", "x"],
  ])("single-file snapshot with an entry whose %s: skipped, reported once, the good ones loaded", (_n, bad) => {
    writeFileSync(legacyFile(), v1([{ key: "good", fetchedAt: 5, value: "kept" }, bad]));
    expect(storeIn().load()).toEqual([{ key: "good", value: "kept", fetchedAt: 5, version: 0 }]);
    expect(eventsNamed("store.entries_skipped")).toEqual([
      { event: "store.entries_skipped", fields: expect.objectContaining({ skipped: 1, problem: expect.any(String) }) },
    ]);
  });

  it("reads a single-file snapshot of another version entry by entry", () => {
    writeFileSync(legacyFile(), JSON.stringify({ version: 3, entries: [{ key: "k", fetchedAt: 5, value: 1 }] }));
    expect(storeIn().load()).toEqual([{ key: "k", value: 1, fetchedAt: 5, version: 0 }]);
  });

  it("skips a log line that is torn (a crash mid-append) or invalid, keeps the rest, and writes a clean log", async () => {
    const store = storeIn();
    store.record("a", 1, 1);
    await store.flush();
    store.record("b", 2, 2);
    await store.close();
    const good = readFileSync(snapshotFile(), "utf8");
    writeFileSync(
      snapshotFile(),
      `${good}{"op":"put","key":"c","fetchedAt":null,"value":3}\n{"op":"put","key":"d","fe`,
    );

    expect(
      storeIn()
        .load()
        .map((e) => e.key),
    ).toEqual(["a", "b"]);
    expect(eventsNamed("store.entries_skipped")).toHaveLength(1);
    expect(eventsNamed("store.entries_skipped")[0]?.fields).toMatchObject({ skipped: 2 });
    // The damaged log is kept aside; the one in place is whole again.
    expect(filesInDir().some((f) => f.startsWith(`${SNAPSHOT_FILE}.corrupt-`))).toBe(true);
    events = [];
    expect(storeIn().load()).toHaveLength(2);
    expect(events).toEqual([]);
  });
});

describe("the data directory's lock", () => {
  it("is taken by open() and let go by close(): a second store on the directory refuses meanwhile", async () => {
    const first = SnapshotStore.open({ dir, maxBytes: 1024 });
    expect(() => SnapshotStore.open({ dir, maxBytes: 1024 })).toThrow(
      new RegExp(`DASHBOARD_DATA_DIR ${dir} is in use`),
    );
    await first.close();
    const second = SnapshotStore.open({ dir, maxBytes: 1024 });
    await second.close();
  });
});
