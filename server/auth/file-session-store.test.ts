import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createFileSessionStore } from "./file-session-store";
import type { SessionRecord } from "./session-record";

const NOW = Date.parse("2026-11-28T12:00:00Z");
const record = (sid: string, more: Partial<SessionRecord> = {}): SessionRecord => ({
  sid,
  user: { sub: "alice", name: "Alice", email: null, groups: ["operators"] },
  expiresAt: NOW + 3600_000,
  checkedAt: NOW,
  refreshToken: "refresh",
  accessToken: null,
  idToken: "id",
  ...more,
});
const SID = "A".repeat(43);

function storeIn() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "session-store-test-"));
  const logged: string[] = [];
  const store = createFileSessionStore(dir, { now: () => NOW, log: (event) => logged.push(event) });
  return { dir: path.join(dir, "sessions"), store, logged };
}

describe("file session store", () => {
  it("keeps a session in a file only its user can read, and reads it back", async () => {
    const { dir, store } = storeIn();
    expect(await store.create(record(SID))).toBe(true);
    expect(await store.read(SID)).toEqual(record(SID));
    expect(statSync(path.join(dir, `${SID}.json`)).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([`${SID}.json`]); // no temporary file left
  });

  it("removed (signed out): gone, and an update afterwards does not bring it back", async () => {
    const { store } = storeIn();
    await store.create(record(SID));
    expect(await store.remove(SID)).toBe(true);
    expect(await store.read(SID)).toBeNull();
    expect(await store.update(record(SID, { checkedAt: NOW + 1 }))).toBe(false);
    expect(await store.read(SID)).toBeNull();
  });

  it("an update replaces the record whole", async () => {
    const { store } = storeIn();
    await store.create(record(SID));
    await store.update(record(SID, { user: { sub: "alice", name: "Alice", email: null, groups: ["visitors"] } }));
    expect(await store.read(SID)).toMatchObject({ user: { groups: ["visitors"] } });
  });

  it("expired, unreadable or another session's record: no session (and the file is removed)", async () => {
    const { dir, store, logged } = storeIn();
    await store.create(record(SID, { expiresAt: NOW }));
    expect(await store.read(SID)).toBeNull();
    writeFileSync(path.join(dir, `${"B".repeat(43)}.json`), '{"sid": 1, "user": "root"}');
    expect(await store.read("B".repeat(43))).toBeNull();
    writeFileSync(path.join(dir, `${"C".repeat(43)}.json`), JSON.stringify(record(SID)));
    expect(await store.read("C".repeat(43))).toBeNull();
    expect(logged).toEqual(["auth.session_record_invalid", "auth.session_record_invalid"]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("an id that is not one of ours never becomes a path", async () => {
    const { store } = storeIn();
    expect(await store.read("../../etc/passwd")).toBeNull();
    expect(await store.remove("../x")).toBe(true);
  });

  it("what is written is the record as JSON, tokens included (the directory is the server's own)", async () => {
    const { dir, store } = storeIn();
    await store.create(record(SID));
    expect(JSON.parse(readFileSync(path.join(dir, `${SID}.json`), "utf8"))).toEqual(record(SID));
  });
});
