import { timingSafeEqual } from "node:crypto";
import { EVERY_ACCOUNT, type Env } from "@/server/env";
import type { SessionUser, Viewer } from "@/contract/viewer";
import { publicOrigin } from "./public-origin";
import { cookieKeys, openSession, sessionAudience } from "./session-cookie";

/**
 * Who is asking, decided from the request alone (the session cookie, a bearer token): the identity
 * provider is only needed to sign in, so a provider outage never locks out operators already in.
 */
export type { Viewer };

/** The session cookie's name: `__Host-` (https only, this host, path /) when served over https. */
export function sessionCookieName(https: boolean): string {
  return https ? "__Host-qdb_session" : "qdb_session";
}
export const SESSION_COOKIE_NAMES = [sessionCookieName(true), sessionCookieName(false)] as const;

/** One cookie's value from a Cookie header; null when absent. */
export function readCookie(headers: Headers, name: string): string | null {
  for (const part of (headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * A group as compared: Keycloak's "full group path" form of a top-level group ("/trading-ops") is
 * the group "trading-ops"; a nested path ("/ops/trading-ops") stays whole, so only that exact path
 * in OIDC_ALLOWED_GROUPS matches it, never a namesake elsewhere in the tree.
 */
export function groupName(group: string): string {
  return /^\/[^/]+$/.test(group) ? group.slice(1) : group;
}

/** Whether a signed-in user's groups let them in: `*` admits every account, nothing else does by default. */
export function isAllowed(user: SessionUser, allowedGroups: readonly string[]): boolean {
  if (allowedGroups.includes(EVERY_ACCOUNT)) return true;
  const allowed = new Set(allowedGroups.map(groupName));
  return user.groups.some((group) => allowed.has(groupName(group)));
}

/**
 * Only the cookie of the request's scheme is read: over https the `__Host-` one, which a
 * sibling subdomain or a plain-http page cannot plant, so a planted unprefixed one is ignored.
 */
export async function viewerOf(headers: Headers, env: Env, nowMs = Date.now()): Promise<Viewer> {
  if (env.AUTH_MODE !== "oidc") return { kind: "auth-off" };
  const token = readCookie(headers, sessionCookieName(publicOrigin(headers, env).https));
  if (!token) return { kind: "anonymous", why: "no session" };
  const opened = await openSession(token, sessionAudience(env), cookieKeys(env), nowMs);
  if ("failure" in opened) return { kind: "anonymous", why: `${opened.failure} session` };
  return isAllowed(opened.user, env.OIDC_ALLOWED_GROUPS)
    ? { kind: "operator", user: opened.user, expiresAt: opened.expiresAt }
    : { kind: "not-allowed", user: opened.user };
}

/** Whether the viewer may see trading data and the service's internals. */
export function canSeeData(viewer: Viewer): boolean {
  return viewer.kind === "auth-off" || viewer.kind === "operator";
}

/** `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time; false when no token is configured. */
export function hasMetricsToken(headers: Headers, env: Env): boolean {
  if (!env.METRICS_TOKEN) return false;
  const match = /^Bearer\s+(.+)$/i.exec(headers.get("authorization")?.trim() ?? "");
  if (!match) return false;
  const given = Buffer.from(match[1]!.trim());
  const expected = Buffer.from(env.METRICS_TOKEN);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
