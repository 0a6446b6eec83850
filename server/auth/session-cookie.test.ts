import { describe, expect, it } from "vitest";
import {
  SESSION_TTL_SECONDS,
  cookieKeys,
  openSession,
  openSignInState,
  sealSession,
  sealSignInState,
  type SessionUser,
} from "./session-cookie";

const SECRET = "Qm9vdHN0cmFwLWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY3ODkw";
const OTHER_SECRET = "b3RoZXItZGVwbG95bWVudC1rZXktb2YtNDgtY2hhcmFjdGVycw";
const KEYS = [SECRET] as const;
const ALICE_USER: SessionUser = {
  sub: "alice",
  name: "Alice Operator",
  email: "alice@example.test",
  groups: ["operators"],
};
const SID = "A".repeat(43);
const ALICE = { ...ALICE_USER, sid: SID };
const PROD = { issuer: "https://sso.example.com/realms/ops", clientId: "questdb-dashboard" };
const NOW = Date.parse("2026-11-28T12:00:00Z");

describe("session cookie", () => {
  it("opens what it sealed, with the same key, before it expires", async () => {
    const token = await sealSession(ALICE, PROD, KEYS, NOW);
    expect(await openSession(token, PROD, KEYS, NOW + 60_000)).toEqual({
      user: ALICE_USER,
      sid: SID,
      expiresAt: NOW + SESSION_TTL_SECONDS * 1000,
    });
  });

  it("a cookie that names no server-side session (sealed before sessions were revocable) is invalid", async () => {
    const { sid: _sid, ...withoutSid } = ALICE;
    const token = await sealSession(withoutSid as typeof ALICE, PROD, KEYS, NOW);
    expect(await openSession(token, PROD, KEYS, NOW + 60_000)).toEqual({ failure: "invalid" });
  });

  it("cannot be read without the key: the token holds no claim in clear", async () => {
    const token = await sealSession(ALICE, PROD, KEYS, NOW);
    const decoded = token
      .split(".")
      .map((part) => Buffer.from(part, "base64url").toString("latin1"))
      .join(" ");
    expect(decoded).not.toContain("alice@example.test");
    expect(decoded).not.toContain("operators");
  });

  it("a cookie sealed with another key is invalid", async () => {
    const token = await sealSession(ALICE, PROD, [OTHER_SECRET], NOW);
    expect(await openSession(token, PROD, KEYS, NOW)).toEqual({ failure: "invalid" });
  });

  it("a cookie changed anywhere is invalid", async () => {
    const token = await sealSession(ALICE, PROD, KEYS, NOW);
    for (const index of [5, token.length / 2, token.length - 3].map(Math.floor)) {
      const flipped = token.slice(0, index) + (token[index] === "A" ? "B" : "A") + token.slice(index + 1);
      expect(await openSession(flipped, PROD, KEYS, NOW)).toEqual({ failure: "invalid" });
    }
    expect(await openSession("not-a-token", PROD, KEYS, NOW)).toEqual({ failure: "invalid" });
  });

  it("expires after its lifetime", async () => {
    const token = await sealSession(ALICE, PROD, KEYS, NOW);
    expect(await openSession(token, PROD, KEYS, NOW + (SESSION_TTL_SECONDS - 1) * 1000)).toMatchObject({
      user: ALICE_USER,
    });
    expect(await openSession(token, PROD, KEYS, NOW + (SESSION_TTL_SECONDS + 1) * 1000)).toEqual({
      failure: "expired",
    });
  });

  it("a session of another issuer or another client does not open, though the key is shared", async () => {
    const staging = await sealSession(ALICE, { ...PROD, issuer: "https://sso.example.com/realms/staging" }, KEYS, NOW);
    expect(await openSession(staging, PROD, KEYS, NOW)).toEqual({ failure: "invalid" });
    const otherClient = await sealSession(ALICE, { ...PROD, clientId: "grafana" }, KEYS, NOW);
    expect(await openSession(otherClient, PROD, KEYS, NOW)).toEqual({ failure: "invalid" });
  });

  it("during a rotation the previous key still opens sessions and sign-ins; only the new key seals", async () => {
    const rotated = cookieKeys({ AUTH_SECRET: OTHER_SECRET, AUTH_SECRET_PREVIOUS: SECRET });
    expect(rotated).toEqual([OTHER_SECRET, SECRET]);
    const before = await sealSession(ALICE, PROD, KEYS, NOW);
    expect(await openSession(before, PROD, rotated, NOW)).toMatchObject({ user: ALICE_USER });
    const signIn = await sealSignInState({ state: "s", nonce: "n", codeVerifier: "v", returnTo: "/" }, KEYS, NOW);
    expect(await openSignInState(signIn, rotated, NOW)).toMatchObject({ state: "s" });
    const after = await sealSession(ALICE, PROD, rotated, NOW);
    expect(await openSession(after, PROD, [OTHER_SECRET], NOW)).toMatchObject({ user: ALICE_USER });
    expect(await openSession(after, PROD, KEYS, NOW)).toEqual({ failure: "invalid" });
    // An expired session under the previous key is "expired", not "invalid".
    const old = await sealSession(ALICE, PROD, KEYS, NOW - (SESSION_TTL_SECONDS + 5) * 1000);
    expect(await openSession(old, PROD, rotated, NOW)).toEqual({ failure: "expired" });
    expect(cookieKeys({ AUTH_SECRET: SECRET, AUTH_SECRET_PREVIOUS: "" })).toEqual([SECRET]);
  });

  it("a sign-in state is never accepted as a session, nor the other way round", async () => {
    const state = await sealSignInState({ state: "s", nonce: "n", codeVerifier: "v", returnTo: "/" }, KEYS, NOW);
    expect(await openSession(state, PROD, KEYS, NOW)).toEqual({ failure: "invalid" });
    const session = await sealSession(ALICE, PROD, KEYS, NOW);
    expect(await openSignInState(session, KEYS, NOW)).toBeNull();
    expect(await openSignInState(state, KEYS, NOW)).toEqual({
      state: "s",
      nonce: "n",
      codeVerifier: "v",
      returnTo: "/",
    });
  });
});
