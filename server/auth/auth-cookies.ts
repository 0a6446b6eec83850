import type { NextResponse } from "next/server";
import { SESSION_TTL_SECONDS, SIGN_IN_TTL_SECONDS } from "./session-cookie";
import { SESSION_COOKIE_NAMES, sessionCookieName } from "./viewer";

/**
 * How the app's cookies are set: HttpOnly (no script reads them), SameSite=Lax (sent on the
 * provider's redirect back, not on cross-site posts), Secure with the __Host- prefix over https
 * (this host only, path /: a sibling subdomain cannot plant or overwrite one), and always with an
 * expiry.
 */

export function signInCookieName(https: boolean): string {
  return https ? "__Host-qdb_signin" : "qdb_signin";
}

const base = (https: boolean) => ({ httpOnly: true, sameSite: "lax" as const, secure: https });

export function setSessionCookie(res: NextResponse, token: string, https: boolean): void {
  res.cookies.set(sessionCookieName(https), token, { ...base(https), path: "/", maxAge: SESSION_TTL_SECONDS });
}

export function clearSessionCookies(res: NextResponse, https: boolean): void {
  for (const name of SESSION_COOKIE_NAMES) {
    if (name.startsWith("__Host-") && !https) continue; // a browser drops a __Host- cookie not set over https
    res.cookies.set(name, "", { ...base(name.startsWith("__Host-")), path: "/", maxAge: 0 });
  }
}

/** Path / because __Host- demands it; the cookie lives 10 minutes and is cleared by the callback. */
export function setSignInCookie(res: NextResponse, token: string, https: boolean): void {
  res.cookies.set(signInCookieName(https), token, { ...base(https), path: "/", maxAge: SIGN_IN_TTL_SECONDS });
}

export function clearSignInCookie(res: NextResponse, https: boolean): void {
  res.cookies.set(signInCookieName(https), "", { ...base(https), path: "/", maxAge: 0 });
}
