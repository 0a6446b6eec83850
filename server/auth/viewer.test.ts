import { describe, expect, it } from "vitest";
import { parseEnv } from "../env";
import { sealSession, type SessionUser } from "./session-cookie";
import { hasMetricsToken, readCookie, viewerOf } from "./viewer";

const OIDC = {
  AUTH_MODE: "oidc",
  OIDC_ISSUER: "https://sso.example.com/realms/ops",
  OIDC_CLIENT_ID: "dashboard",
  OIDC_CLIENT_SECRET: "client-secret",
  AUTH_SECRET: "k".repeat(48),
  OIDC_ALLOWED_GROUPS: "operators, sre",
  METRICS_TOKEN: "scrape-token-123",
};
const env = parseEnv(OIDC);
const BOB: SessionUser = { sub: "bob", name: "Bob", email: "bob@example.test", groups: ["visitors"] };
const ALICE: SessionUser = { sub: "alice", name: "Alice", email: null, groups: ["sre"] };
const withCookie = (value: string, name = "qdb_session") =>
  new Headers({ cookie: `other=1; ${name}=${value}; theme=dark` });

describe("viewerOf", () => {
  it("AUTH_MODE=none: everyone is let in, marked as authentication off", async () => {
    expect(await viewerOf(new Headers(), parseEnv({ AUTH_MODE: "none" }))).toEqual({ kind: "auth-off" });
  });

  it("no cookie: anonymous, no session", async () => {
    expect(await viewerOf(new Headers(), env)).toEqual({ kind: "anonymous", why: "no session" });
  });

  it("a valid session of an allowed group (plain or __Host- cookie): operator", async () => {
    const now = Date.now();
    const token = await sealSession(ALICE, env.AUTH_SECRET, now);
    const expiresAt = (Math.floor(now / 1000) + 8 * 3600) * 1000;
    expect(await viewerOf(withCookie(token), env)).toEqual({ kind: "operator", user: ALICE, expiresAt });
    expect(await viewerOf(withCookie(token, "__Host-qdb_session"), env)).toEqual({
      kind: "operator",
      user: ALICE,
      expiresAt,
    });
  });

  it("a valid session outside OIDC_ALLOWED_GROUPS: not allowed; with no groups configured: operator", async () => {
    const token = await sealSession(BOB, env.AUTH_SECRET);
    expect(await viewerOf(withCookie(token), env)).toEqual({ kind: "not-allowed", user: BOB });
    expect(await viewerOf(withCookie(token), { ...env, OIDC_ALLOWED_GROUPS: [] })).toMatchObject({
      kind: "operator",
      user: BOB,
    });
  });

  it("a session sealed with another AUTH_SECRET, or expired: anonymous, saying which", async () => {
    const foreign = await sealSession(ALICE, "z".repeat(48));
    expect(await viewerOf(withCookie(foreign), env)).toEqual({ kind: "anonymous", why: "invalid session" });
    const old = await sealSession(ALICE, env.AUTH_SECRET, Date.now() - 9 * 3600_000);
    expect(await viewerOf(withCookie(old), env)).toEqual({ kind: "anonymous", why: "expired session" });
  });
});

describe("readCookie", () => {
  it("finds one cookie by its exact name", () => {
    expect(readCookie(withCookie("v1"), "qdb_session")).toBe("v1");
    expect(readCookie(new Headers({ cookie: "xqdb_session=v2" }), "qdb_session")).toBeNull();
  });
});

describe("hasMetricsToken", () => {
  it("accepts exactly `Bearer <METRICS_TOKEN>`", () => {
    expect(hasMetricsToken(new Headers({ authorization: "Bearer scrape-token-123" }), env)).toBe(true);
    expect(hasMetricsToken(new Headers({ authorization: "bearer scrape-token-123" }), env)).toBe(true);
    expect(hasMetricsToken(new Headers({ authorization: "Bearer scrape-token-12" }), env)).toBe(false);
    expect(hasMetricsToken(new Headers({ authorization: "Basic scrape-token-123" }), env)).toBe(false);
    expect(hasMetricsToken(new Headers(), env)).toBe(false);
  });

  it("no token configured: nothing is accepted", () => {
    expect(hasMetricsToken(new Headers({ authorization: "Bearer " }), { ...env, METRICS_TOKEN: "" })).toBe(false);
  });
});
