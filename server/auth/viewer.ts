import { timingSafeEqual } from "node:crypto";
import type { Env } from "../env";
import type { SessionUser, UnsealFailure, Viewer } from "@/contract/viewer";
import { openSession } from "./session-cookie";

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

/** Whether a signed-in user's groups let them in: an empty OIDC_ALLOWED_GROUPS lets everyone in. */
export function isAllowed(user: SessionUser, allowedGroups: readonly string[]): boolean {
  return allowedGroups.length === 0 || user.groups.some((group) => allowedGroups.includes(group));
}

export async function viewerOf(headers: Headers, env: Env, nowMs = Date.now()): Promise<Viewer> {
  if (env.AUTH_MODE !== "oidc") return { kind: "auth-off" };
  let failure: UnsealFailure | null = null;
  for (const name of SESSION_COOKIE_NAMES) {
    const token = readCookie(headers, name);
    if (!token) continue;
    const opened = await openSession(token, env.AUTH_SECRET, nowMs);
    if ("user" in opened) {
      return isAllowed(opened.user, env.OIDC_ALLOWED_GROUPS)
        ? { kind: "operator", user: opened.user, expiresAt: opened.expiresAt }
        : { kind: "not-allowed", user: opened.user };
    }
    failure = opened.failure;
  }
  return { kind: "anonymous", why: failure ? `${failure} session` : "no session" };
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
