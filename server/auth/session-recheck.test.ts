import { describe, expect, it } from "vitest";
import { RECHECK_RETRY_MS, decideAfterRecheck, isRecheckDue } from "./session-recheck";
import type { SessionRecord } from "./session-record";

const NOW = Date.parse("2026-11-28T12:00:00Z");
const INTERVAL = 5 * 60_000;
const RECORD: SessionRecord = {
  sid: "A".repeat(43),
  user: { sub: "alice", name: "Alice", email: null, groups: ["operators"] },
  expiresAt: NOW + 3600_000,
  checkedAt: NOW - INTERVAL,
  refreshToken: "refresh-1",
  accessToken: "access-1",
  idToken: "id-1",
};
const allowed = (user: { groups: string[] }) => user.groups.includes("operators");
const opts = { nowMs: NOW, intervalMs: INTERVAL, allowed };

describe("isRecheckDue", () => {
  it("due once the provider's last word is as old as the interval, not before", () => {
    expect(isRecheckDue(RECORD, NOW, INTERVAL)).toBe(true);
    expect(isRecheckDue({ ...RECORD, checkedAt: NOW - INTERVAL + 1 }, NOW, INTERVAL)).toBe(false);
  });
});

describe("decideAfterRecheck", () => {
  it("still in an allowed group: kept, with the provider's new tokens and groups, checked now", () => {
    const user = { ...RECORD.user, groups: ["operators", "sre"] };
    const tokens = { refreshToken: "refresh-2", accessToken: "access-2", idToken: "id-2" };
    expect(decideAfterRecheck(RECORD, { kind: "confirmed", user, tokens }, opts)).toEqual({
      kind: "keep",
      record: { ...RECORD, ...tokens, user, checkedAt: NOW },
    });
  });

  it("removed from the allowed groups: out, saying which groups the account has now", () => {
    const user = { ...RECORD.user, groups: ["visitors"] };
    const decision = decideAfterRecheck(RECORD, { kind: "confirmed", user, tokens: RECORD }, opts);
    expect(decision).toEqual({ kind: "end", why: "no longer in an allowed group (groups now: visitors)" });
  });

  it("disabled, or the grant revoked (the provider refuses the token): out", () => {
    const refused = { kind: "refused" as const, why: "invalid_grant (referenced account not found)" };
    expect(decideAfterRecheck(RECORD, refused, opts)).toEqual({
      kind: "end",
      why: "the provider refused the session: invalid_grant (referenced account not found)",
    });
  });

  it("an answer about another account: out", () => {
    const user = { ...RECORD.user, sub: "mallory" };
    expect(decideAfterRecheck(RECORD, { kind: "confirmed", user, tokens: RECORD }, opts)).toMatchObject({
      kind: "end",
    });
  });

  it("the provider not answering: kept as it was, asked again after the retry delay (an outage locks nobody out)", () => {
    const decision = decideAfterRecheck(RECORD, { kind: "unreachable", why: "ECONNREFUSED" }, opts);
    expect(decision).toEqual({ kind: "keep", record: { ...RECORD, checkedAt: NOW - INTERVAL + RECHECK_RETRY_MS } });
    if (decision.kind !== "keep") throw new Error("kept");
    expect(isRecheckDue(decision.record, NOW + RECHECK_RETRY_MS - 1, INTERVAL)).toBe(false);
    expect(isRecheckDue(decision.record, NOW + RECHECK_RETRY_MS, INTERVAL)).toBe(true);
    // A short interval is not stretched by the retry delay.
    const short = decideAfterRecheck(RECORD, { kind: "unreachable", why: "" }, { ...opts, intervalMs: 3_000 });
    expect(short).toMatchObject({ record: { checkedAt: NOW } });
  });
});
