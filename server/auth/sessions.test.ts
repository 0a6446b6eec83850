import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createFileSessionStore } from "./file-session-store";
import { createLocalSessionEndings } from "./session-endings";
import type { RecheckOutcome } from "./session-recheck";
import type { SessionRecord } from "./session-record";
import { createSessions } from "./sessions";

const ALICE = { sub: "alice", name: "Alice", email: null, groups: ["operators"] };
const TOKENS = { refreshToken: "refresh-1", accessToken: "access-1", idToken: "id-1" };
const INTERVAL = 60_000;

function setUp(answer: (record: SessionRecord) => RecheckOutcome, watchEveryMs = 60_000) {
  let now = Date.parse("2026-11-28T12:00:00Z");
  const store = createFileSessionStore(mkdtempSync(path.join(os.tmpdir(), "sessions-test-")), { now: () => now });
  const endings = createLocalSessionEndings();
  const asked: SessionRecord[] = [];
  const sessions = createSessions({
    store,
    endings,
    recheck: async (record) => {
      asked.push(record);
      return answer(record);
    },
    recheckMs: INTERVAL,
    allowed: (user) => user.groups.includes("operators"),
    ttlMs: 8 * 3600_000,
    now: () => now,
    watchEveryMs,
  });
  return { sessions, store, endings, asked, advance: (ms: number) => (now += ms) };
}

const confirmed = (groups: string[]): RecheckOutcome => ({
  kind: "confirmed",
  user: { ...ALICE, groups },
  tokens: { ...TOKENS, refreshToken: "refresh-2" },
});

describe("sessions", () => {
  it("a new session is found until it is ended; ending it returns its ID token for the provider's logout", async () => {
    const { sessions } = setUp(() => confirmed(["operators"]));
    const { sid, stored } = await sessions.begin(ALICE, TOKENS);
    expect(stored).toBe(true);
    expect(await sessions.find(sid)).toMatchObject({ state: "found", record: { user: ALICE } });
    expect(await sessions.end(sid, "signed out")).toMatchObject({ idToken: "id-1" });
    expect(await sessions.find(sid)).toEqual({ state: "gone" });
  });

  it("the provider is not asked before the interval; after it, once, and its word is kept", async () => {
    const { sessions, asked, advance } = setUp(() => confirmed(["operators", "sre"]));
    const { sid } = await sessions.begin(ALICE, TOKENS);
    await sessions.find(sid);
    await sessions.settled();
    expect(asked).toHaveLength(0);
    advance(INTERVAL);
    await Promise.all([sessions.find(sid), sessions.find(sid), sessions.find(sid)]);
    await sessions.settled();
    expect(asked).toHaveLength(1);
    expect(asked[0]!.refreshToken).toBe("refresh-1");
    const found = await sessions.find(sid);
    expect(found).toMatchObject({ state: "found", record: { user: { groups: ["operators", "sre"] } } });
    expect(found).toMatchObject({ record: { refreshToken: "refresh-2" } });
    await sessions.settled();
    expect(asked).toHaveLength(1);
  });

  it("removed from the group at the provider: out at the next check, and its open streams end", async () => {
    const { sessions, advance } = setUp(() => confirmed(["visitors"]));
    const { sid } = await sessions.begin(ALICE, TOKENS);
    const stream = sessions.watch(sid, new AbortController().signal);
    advance(INTERVAL);
    expect(await sessions.find(sid)).toMatchObject({ state: "found" }); // the check runs in the background
    await sessions.settled();
    expect(stream.aborted).toBe(true);
    expect(await sessions.find(sid)).toEqual({ state: "gone" });
  });

  it("the provider refusing the refresh token (account disabled): out", async () => {
    const { sessions, advance } = setUp(() => ({ kind: "refused", why: "invalid_grant" }));
    const { sid } = await sessions.begin(ALICE, TOKENS);
    advance(INTERVAL);
    await sessions.find(sid);
    await sessions.settled();
    expect(await sessions.find(sid)).toEqual({ state: "gone" });
  });

  it("the provider down: the session goes on", async () => {
    const { sessions, advance, asked } = setUp(() => ({ kind: "unreachable", why: "ECONNREFUSED" }));
    const { sid } = await sessions.begin(ALICE, TOKENS);
    advance(INTERVAL);
    await sessions.find(sid);
    await sessions.settled();
    expect(asked).toHaveLength(1);
    expect(await sessions.find(sid)).toMatchObject({ state: "found", record: { user: ALICE } });
  });

  it("a stream ends at once when its session is ended, or announced ended by another instance; others go on", async () => {
    const { sessions, endings } = setUp(() => confirmed(["operators"]));
    const one = await sessions.begin(ALICE, TOKENS);
    const two = await sessions.begin(ALICE, TOKENS);
    const three = await sessions.begin(ALICE, TOKENS);
    const [a, b, c] = [one, two, three].map(({ sid }) => sessions.watch(sid, new AbortController().signal));
    await sessions.end(one.sid, "signed out");
    expect([a!.aborted, b!.aborted, c!.aborted]).toEqual([true, false, false]);
    await endings.announce(two.sid);
    expect([b!.aborted, c!.aborted]).toEqual([true, false]);
    expect(await sessions.find(two.sid)).toEqual({ state: "gone" });
  });

  it("a lost announcement: the stream still ends when its session is read again and is gone", async () => {
    const { sessions, store } = setUp(() => confirmed(["operators"]), 20);
    const { sid } = await sessions.begin(ALICE, TOKENS);
    const stream = sessions.watch(sid, new AbortController().signal);
    await store.remove(sid); // as another instance's sign-out whose message never came
    await expect.poll(() => stream.aborted, { timeout: 2_000 }).toBe(true);
  });

  it("a stream that ends by itself is forgotten", async () => {
    const { sessions } = setUp(() => confirmed(["operators"]));
    const { sid } = await sessions.begin(ALICE, TOKENS);
    const request = new AbortController();
    const stream = sessions.watch(sid, request.signal);
    request.abort();
    expect(stream.aborted).toBe(true);
    await sessions.end(sid, "signed out");
  });
});
