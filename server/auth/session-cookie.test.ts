import { describe, expect, it } from "vitest";
import {
  SESSION_TTL_SECONDS,
  openSession,
  openSignInState,
  sealSession,
  sealSignInState,
  type SessionUser,
} from "./session-cookie";

const SECRET = `${"a".repeat(16) + "b".repeat(16)}-session-key`;
const OTHER_SECRET = "c".repeat(40);
const ALICE: SessionUser = { sub: "alice", name: "Alice Operator", email: "alice@example.test", groups: ["operators"] };
const NOW = Date.parse("2026-11-28T12:00:00Z");

describe("session cookie", () => {
  it("opens what it sealed, with the same key, before it expires", async () => {
    const token = await sealSession(ALICE, SECRET, NOW);
    expect(await openSession(token, SECRET, NOW + 60_000)).toEqual({
      user: ALICE,
      expiresAt: NOW + SESSION_TTL_SECONDS * 1000,
    });
  });

  it("cannot be read without the key: the token holds no claim in clear", async () => {
    const token = await sealSession(ALICE, SECRET, NOW);
    const decoded = token
      .split(".")
      .map((part) => Buffer.from(part, "base64url").toString("latin1"))
      .join(" ");
    expect(decoded).not.toContain("alice@example.test");
    expect(decoded).not.toContain("operators");
  });

  it("a cookie sealed with another key is invalid", async () => {
    const token = await sealSession(ALICE, OTHER_SECRET, NOW);
    expect(await openSession(token, SECRET, NOW)).toEqual({ failure: "invalid" });
  });

  it("a cookie changed anywhere is invalid", async () => {
    const token = await sealSession(ALICE, SECRET, NOW);
    for (const index of [5, token.length / 2, token.length - 3].map(Math.floor)) {
      const flipped = token.slice(0, index) + (token[index] === "A" ? "B" : "A") + token.slice(index + 1);
      expect(await openSession(flipped, SECRET, NOW)).toEqual({ failure: "invalid" });
    }
    expect(await openSession("not-a-token", SECRET, NOW)).toEqual({ failure: "invalid" });
  });

  it("expires after its lifetime", async () => {
    const token = await sealSession(ALICE, SECRET, NOW);
    expect(await openSession(token, SECRET, NOW + (SESSION_TTL_SECONDS - 1) * 1000)).toMatchObject({ user: ALICE });
    expect(await openSession(token, SECRET, NOW + (SESSION_TTL_SECONDS + 1) * 1000)).toEqual({ failure: "expired" });
  });

  it("a sign-in state is never accepted as a session, nor the other way round", async () => {
    const state = await sealSignInState({ state: "s", nonce: "n", codeVerifier: "v", returnTo: "/" }, SECRET, NOW);
    expect(await openSession(state, SECRET, NOW)).toEqual({ failure: "invalid" });
    const session = await sealSession(ALICE, SECRET, NOW);
    expect(await openSignInState(session, SECRET, NOW)).toBeNull();
    expect(await openSignInState(state, SECRET, NOW)).toEqual({
      state: "s",
      nonce: "n",
      codeVerifier: "v",
      returnTo: "/",
    });
  });
});
