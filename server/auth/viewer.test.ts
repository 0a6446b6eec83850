import { describe, expect, it } from "vitest";
import { parseEnv } from "@/server/env";
import { sealSession, sessionAudience, type SessionUser } from "./session-cookie";
import { hasMetricsToken, isAllowed, readCookie, viewerOf } from "./viewer";

const OIDC = {
  AUTH_MODE: "oidc",
  OIDC_ISSUER: "https://sso.example.com/realms/ops",
  OIDC_CLIENT_ID: "dashboard",
  OIDC_CLIENT_SECRET: "client-secret",
  AUTH_SECRET: "Zx8kQ2vLp9Wm4Rt7Yb1Nc6Hd3Jf5Gs0Ae8Uq2Io4Pl7Mk9",
  OIDC_ALLOWED_GROUPS: "operators, sre",
  METRICS_TOKEN: "scrape-token-0123456789abcdef",
};
const env = parseEnv(OIDC);
const AUDIENCE = sessionAudience(env);
const KEYS = [env.AUTH_SECRET] as const;
const BOB: SessionUser = { sub: "bob", name: "Bob", email: "bob@example.test", groups: ["visitors"] };
const ALICE: SessionUser = { sub: "alice", name: "Alice", email: null, groups: ["sre"] };
const withCookie = (value: string, name = "qdb_session", more: Record<string, string> = {}) =>
  new Headers({ cookie: `other=1; ${name}=${value}; theme=dark`, ...more });
const OVER_HTTPS = { "x-forwarded-proto": "https" };

describe("viewerOf", () => {
  it("AUTH_MODE=none: everyone is let in, marked as authentication off", async () => {
    expect(await viewerOf(new Headers(), parseEnv({ AUTH_MODE: "none" }))).toEqual({ kind: "auth-off" });
  });

  it("no cookie: anonymous, no session", async () => {
    expect(await viewerOf(new Headers(), env)).toEqual({ kind: "anonymous", why: "no session" });
  });

  it("a valid session of an allowed group: operator (qdb_session over http, __Host-qdb_session over https)", async () => {
    const now = Date.now();
    const token = await sealSession(ALICE, AUDIENCE, KEYS, now);
    const expiresAt = (Math.floor(now / 1000) + 8 * 3600) * 1000;
    expect(await viewerOf(withCookie(token), env)).toEqual({ kind: "operator", user: ALICE, expiresAt });
    expect(await viewerOf(withCookie(token, "__Host-qdb_session", OVER_HTTPS), env)).toEqual({
      kind: "operator",
      user: ALICE,
      expiresAt,
    });
    const publicHttps = { ...env, PUBLIC_URL: "https://dashboard.example.com" };
    expect(await viewerOf(withCookie(token, "__Host-qdb_session"), publicHttps)).toMatchObject({ kind: "operator" });
  });

  it("only the cookie of the request's scheme is read: over https an unprefixed cookie is nobody's", async () => {
    const token = await sealSession(ALICE, AUDIENCE, KEYS);
    expect(await viewerOf(withCookie(token, "qdb_session", OVER_HTTPS), env)).toEqual({
      kind: "anonymous",
      why: "no session",
    });
    expect(await viewerOf(withCookie(token, "__Host-qdb_session"), env)).toEqual({
      kind: "anonymous",
      why: "no session",
    });
  });

  it("a valid session outside OIDC_ALLOWED_GROUPS: not allowed; with `*`: operator", async () => {
    const token = await sealSession(BOB, AUDIENCE, KEYS);
    expect(await viewerOf(withCookie(token), env)).toEqual({ kind: "not-allowed", user: BOB });
    expect(await viewerOf(withCookie(token), { ...env, OIDC_ALLOWED_GROUPS: ["*"] })).toMatchObject({
      kind: "operator",
      user: BOB,
    });
  });

  it("a session sealed with another AUTH_SECRET, or expired: anonymous, saying which", async () => {
    const foreign = await sealSession(ALICE, AUDIENCE, ["Yb1Nc6Hd3Jf5Gs0Ae8Uq2Io4Pl7Mk9Zx8kQ2vLp9Wm4Rt7"]);
    expect(await viewerOf(withCookie(foreign), env)).toEqual({ kind: "anonymous", why: "invalid session" });
    const old = await sealSession(ALICE, AUDIENCE, KEYS, Date.now() - 9 * 3600_000);
    expect(await viewerOf(withCookie(old), env)).toEqual({ kind: "anonymous", why: "expired session" });
  });

  it("a session of another client (same key, same provider) is invalid; AUTH_SECRET_PREVIOUS still opens one", async () => {
    const otherClient = await sealSession(ALICE, { ...AUDIENCE, clientId: "staging-dashboard" }, KEYS);
    expect(await viewerOf(withCookie(otherClient), env)).toEqual({ kind: "anonymous", why: "invalid session" });
    const rotated = parseEnv({
      ...OIDC,
      AUTH_SECRET: "Pl7Mk9Zx8kQ2vLp9Wm4Rt7Yb1Nc6Hd3Jf5Gs0Ae8Uq2Io4",
      AUTH_SECRET_PREVIOUS: OIDC.AUTH_SECRET,
    });
    const beforeRotation = await sealSession(ALICE, AUDIENCE, KEYS);
    expect(await viewerOf(withCookie(beforeRotation), rotated)).toMatchObject({ kind: "operator", user: ALICE });
  });
});

describe("isAllowed", () => {
  const user = (...groups: string[]): SessionUser => ({ sub: "u", name: "U", email: null, groups });
  it("accepts Keycloak's full path of a top-level group, and a nested path only in full", () => {
    expect(isAllowed(user("/trading-ops"), ["trading-ops"])).toBe(true);
    expect(isAllowed(user("trading-ops"), ["/trading-ops"])).toBe(true);
    expect(isAllowed(user("/visitors/trading-ops"), ["trading-ops"])).toBe(false);
    expect(isAllowed(user("/ops/trading-ops"), ["/ops/trading-ops"])).toBe(true);
    expect(isAllowed(user("/sre"), ["trading-ops"])).toBe(false);
  });

  it("`*` admits every account; no group list admits nobody", () => {
    expect(isAllowed(user(), ["*"])).toBe(true);
    expect(isAllowed(user("sre"), [])).toBe(false);
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
    const token = OIDC.METRICS_TOKEN;
    expect(hasMetricsToken(new Headers({ authorization: `Bearer ${token}` }), env)).toBe(true);
    expect(hasMetricsToken(new Headers({ authorization: `bearer ${token}` }), env)).toBe(true);
    expect(hasMetricsToken(new Headers({ authorization: `Bearer ${token.slice(0, -1)}` }), env)).toBe(false);
    expect(hasMetricsToken(new Headers({ authorization: `Basic ${token}` }), env)).toBe(false);
    expect(hasMetricsToken(new Headers(), env)).toBe(false);
  });

  it("no token configured: nothing is accepted", () => {
    expect(hasMetricsToken(new Headers({ authorization: "Bearer " }), { ...env, METRICS_TOKEN: "" })).toBe(false);
  });
});
