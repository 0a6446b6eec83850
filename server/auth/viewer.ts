import { timingSafeEqual } from "node:crypto";
import type { Env } from "@/server/env";
import type { Viewer } from "@/contract/viewer";
import { isAllowed } from "./allowed-groups";
import { publicOrigin } from "./public-origin";
import { cookieKeys, openSession, sessionAudience } from "./session-cookie";
import { rememberSessionId, sessionService } from "./session-service";
import type { Sessions } from "./sessions";

/**
 * Who is asking, decided from the request (the session cookie, a bearer token) and the session the
 * server keeps for it: a signed-out or re-checked-out session opens nothing, whatever its cookie
 * says. The identity provider is never waited on here (re-checks run in the background), so a
 * provider outage never locks out operators already in.
 */
export type { Viewer };
export { groupName, isAllowed } from "./allowed-groups";

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
 * Only the cookie of the request's scheme is read: over https the `__Host-` one, which a
 * sibling subdomain or a plain-http page cannot plant, so a planted unprefixed one is ignored.
 * The server-side session decides: gone (signed out, out after a re-check) is an ended session;
 * its groups are the provider's latest word. Redis unavailable (fleet mode): the sealed cookie
 * alone, unless this instance has heard that session end.
 */
export async function viewerOf(
  headers: Headers,
  env: Env,
  nowMs = Date.now(),
  sessions: Sessions | null = null,
): Promise<Viewer> {
  if (env.AUTH_MODE !== "oidc") return { kind: "auth-off" };
  const token = readCookie(headers, sessionCookieName(publicOrigin(headers, env).https));
  if (!token) return { kind: "anonymous", why: "no session" };
  const opened = await openSession(token, sessionAudience(env), cookieKeys(env), nowMs);
  if ("failure" in opened) return { kind: "anonymous", why: `${opened.failure} session` };
  const found = await (sessions ?? sessionService(env)).find(opened.sid);
  if (found.state === "gone") return { kind: "anonymous", why: "expired session" };
  const user = found.state === "found" ? found.record.user : opened.user;
  const expiresAt = Math.min(opened.expiresAt, found.state === "found" ? found.record.expiresAt : Infinity);
  if (!isAllowed(user, env.OIDC_ALLOWED_GROUPS)) return { kind: "not-allowed", user };
  return rememberSessionId({ kind: "operator", user, expiresAt }, opened.sid);
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
