import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseEnv, type Env } from "@/server/env";
import { createFileSessionStore } from "./file-session-store";
import { createLocalSessionEndings } from "./session-endings";
import {
  type CookieKeys,
  type SessionAudience,
  sealSession,
  sessionAudience,
  type SessionUser,
} from "./session-cookie";
import type { SessionStore } from "./session-store";
import { createSessions, type Sessions } from "./sessions";
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

function sessionsOn(store: SessionStore): Sessions {
  return createSessions({
    store,
    endings: createLocalSessionEndings(),
    recheck: async () => ({ kind: "unreachable", why: "not asked in these tests" }),
    recheckMs: 5 * 60_000,
    allowed: () => true,
    ttlMs: 8 * 3600_000,
  });
}
const store = createFileSessionStore(mkdtempSync(path.join(os.tmpdir(), "viewer-test-")));
const sessions = sessionsOn(store);
const NO_TOKENS = { refreshToken: null, accessToken: null, idToken: null };

/** A cookie as the callback seals it: for a session the server keeps. */
async function sealed(user: SessionUser, audience = AUDIENCE, keys: CookieKeys = KEYS, nowMs?: number) {
  const { sid } = await sessions.begin(user, NO_TOKENS);
  return sealSession({ ...user, sid }, audience as SessionAudience, keys, nowMs);
}
const view = (headers: Headers, config: Env = env, over = sessions) => viewerOf(headers, config, Date.now(), over);

describe("viewerOf", () => {
  it("AUTH_MODE=none: everyone is let in, marked as authentication off", async () => {
    expect(await view(new Headers(), parseEnv({ AUTH_MODE: "none" }))).toEqual({ kind: "auth-off" });
  });

  it("no cookie: anonymous, no session", async () => {
    expect(await view(new Headers(), env)).toEqual({ kind: "anonymous", why: "no session" });
  });

  it("a valid session of an allowed group: operator (qdb_session over http, __Host-qdb_session over https)", async () => {
    const now = Date.now();
    const token = await sealed(ALICE, AUDIENCE, KEYS, now);
    const expiresAt = (Math.floor(now / 1000) + 8 * 3600) * 1000;
    expect(await view(withCookie(token), env)).toEqual({ kind: "operator", user: ALICE, expiresAt });
    expect(await view(withCookie(token, "__Host-qdb_session", OVER_HTTPS), env)).toEqual({
      kind: "operator",
      user: ALICE,
      expiresAt,
    });
    const publicHttps = { ...env, PUBLIC_URL: "https://dashboard.example.com" };
    expect(await view(withCookie(token, "__Host-qdb_session"), publicHttps)).toMatchObject({ kind: "operator" });
  });

  it("only the cookie of the request's scheme is read: over https an unprefixed cookie is nobody's", async () => {
    const token = await sealed(ALICE, AUDIENCE, KEYS);
    expect(await view(withCookie(token, "qdb_session", OVER_HTTPS), env)).toEqual({
      kind: "anonymous",
      why: "no session",
    });
    expect(await view(withCookie(token, "__Host-qdb_session"), env)).toEqual({
      kind: "anonymous",
      why: "no session",
    });
  });

  it("a valid session outside OIDC_ALLOWED_GROUPS: not allowed; with `*`: operator", async () => {
    const token = await sealed(BOB, AUDIENCE, KEYS);
    expect(await view(withCookie(token), env)).toEqual({ kind: "not-allowed", user: BOB });
    expect(await view(withCookie(token), { ...env, OIDC_ALLOWED_GROUPS: ["*"] })).toMatchObject({
      kind: "operator",
      user: BOB,
    });
  });

  it("a session sealed with another AUTH_SECRET, or expired: anonymous, saying which", async () => {
    const foreign = await sealed(ALICE, AUDIENCE, ["Yb1Nc6Hd3Jf5Gs0Ae8Uq2Io4Pl7Mk9Zx8kQ2vLp9Wm4Rt7"]);
    expect(await view(withCookie(foreign), env)).toEqual({ kind: "anonymous", why: "invalid session" });
    const old = await sealed(ALICE, AUDIENCE, KEYS, Date.now() - 9 * 3600_000);
    expect(await view(withCookie(old), env)).toEqual({ kind: "anonymous", why: "expired session" });
  });

  it("a session of another client (same key, same provider) is invalid; AUTH_SECRET_PREVIOUS still opens one", async () => {
    const otherClient = await sealed(ALICE, { ...AUDIENCE, clientId: "staging-dashboard" }, KEYS);
    expect(await view(withCookie(otherClient), env)).toEqual({ kind: "anonymous", why: "invalid session" });
    const rotated = parseEnv({
      ...OIDC,
      AUTH_SECRET: "Pl7Mk9Zx8kQ2vLp9Wm4Rt7Yb1Nc6Hd3Jf5Gs0Ae8Uq2Io4",
      AUTH_SECRET_PREVIOUS: OIDC.AUTH_SECRET,
    });
    const beforeRotation = await sealed(ALICE, AUDIENCE, KEYS);
    expect(await view(withCookie(beforeRotation), rotated)).toMatchObject({ kind: "operator", user: ALICE });
  });
});

describe("viewerOf with revocable sessions", () => {
  const openedSid = async (token: string) => {
    const { openSession, cookieKeys } = await import("./session-cookie");
    const opened = await openSession(token, AUDIENCE, cookieKeys(env));
    if ("failure" in opened) throw new Error(opened.failure);
    return opened.sid;
  };

  it("a signed-out session: its cookie, replayed, opens nothing", async () => {
    const token = await sealed(ALICE);
    expect(await view(withCookie(token))).toMatchObject({ kind: "operator" });
    await sessions.end(await openedSid(token), "signed out");
    expect(await view(withCookie(token))).toEqual({ kind: "anonymous", why: "expired session" });
    // Another process reading the same store (a restart) does not know of the sign-out but finds no session.
    expect(await view(withCookie(token), env, sessionsOn(store))).toEqual({
      kind: "anonymous",
      why: "expired session",
    });
  });

  it("a cookie naming a session the server never kept opens nothing", async () => {
    const token = await sealSession({ ...ALICE, sid: "B".repeat(43) }, AUDIENCE, KEYS);
    expect(await view(withCookie(token))).toEqual({ kind: "anonymous", why: "expired session" });
  });

  it("the groups are the server-side session's (the provider's latest word), not the cookie's", async () => {
    const token = await sealed(ALICE);
    const sid = await openedSid(token);
    const found = await sessions.find(sid);
    if (found.state !== "found") throw new Error(found.state);
    await store.update({ ...found.record, user: { ...ALICE, groups: ["visitors"] } });
    expect(await view(withCookie(token))).toEqual({ kind: "not-allowed", user: { ...ALICE, groups: ["visitors"] } });
  });

  it("the store unavailable (Redis down): the sealed cookie alone, unless this instance heard the session end", async () => {
    const down: SessionStore = {
      read: async () => undefined,
      create: async () => false,
      update: async () => false,
      remove: async () => false,
      claimRecheck: async () => false,
    };
    const offline = sessionsOn(down);
    const token = await sealed(ALICE);
    expect(await view(withCookie(token), env, offline)).toMatchObject({ kind: "operator", user: ALICE });
    await offline.end(await openedSid(token), "signed out");
    expect(await view(withCookie(token), env, offline)).toEqual({ kind: "anonymous", why: "expired session" });
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
