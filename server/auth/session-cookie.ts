import { EncryptJWT, jwtDecrypt, errors as joseErrors } from "jose";
import { hkdfSync } from "node:crypto";
import type { SessionUser, UnsealFailure } from "@/contract/viewer";

/**
 * The app's own cookies, sealed (encrypted and authenticated: JWE, dir + A256GCM) with a key
 * derived from AUTH_SECRET. Nothing in them can be read or changed without the key; a cookie
 * sealed with another key, changed by one byte or past its expiry opens as nothing. During a key
 * rotation the previous key (AUTH_SECRET_PREVIOUS) still opens them; only the current one seals.
 * A session names the provider and the client it was signed in through, so a cookie of a staging
 * deployment that shares the key does not open in production.
 */

export type { SessionUser, UnsealFailure };

/**
 * What a signed-in operator's cookie holds: who, and the id of the session the server keeps
 * (server/auth/sessions.ts), which a sign-out or a re-check can end before the cookie does.
 */
export type SealedSession = SessionUser & { sid: string };

/** What the browser carries between "Sign in" and the provider's callback. */
export interface SignInState {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
}

/** The provider (issuer) and client a session was signed in through. */
export interface SessionAudience {
  issuer: string;
  clientId: string;
}

/** The audience of this deployment's sessions. */
export function sessionAudience(env: { OIDC_ISSUER: string; OIDC_CLIENT_ID: string }): SessionAudience {
  return { issuer: env.OIDC_ISSUER, clientId: env.OIDC_CLIENT_ID };
}

/** The key that seals first, then the keys that still open (the current one, then the previous one). */
export type CookieKeys = readonly [current: string, ...previous: string[]];

/** The cookie keys of a configuration: AUTH_SECRET, and AUTH_SECRET_PREVIOUS during a rotation. */
export function cookieKeys(env: { AUTH_SECRET: string; AUTH_SECRET_PREVIOUS: string }): CookieKeys {
  return env.AUTH_SECRET_PREVIOUS ? [env.AUTH_SECRET, env.AUTH_SECRET_PREVIOUS] : [env.AUTH_SECRET];
}

/** How long a session lasts before the operator signs in again. */
export const SESSION_TTL_SECONDS = 8 * 60 * 60;
/** How long a sign-in may take at the provider. */
export const SIGN_IN_TTL_SECONDS = 10 * 60;

/** One derived key per purpose, so a sign-in state can never be replayed as a session. */
type Purpose = "session" | "sign-in";

function keyFor(secret: string, purpose: Purpose): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", secret, "questdb-dashboard", `${purpose} cookie v1`, 32));
}

async function seal(
  payload: Record<string, unknown>,
  keys: CookieKeys,
  purpose: Purpose,
  ttlSeconds: number,
  nowMs: number,
  audience?: SessionAudience,
): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  const jwt = new EncryptJWT(payload)
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", typ: purpose })
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds);
  if (audience) jwt.setIssuer(audience.issuer).setAudience(audience.clientId);
  return jwt.encrypt(keyFor(keys[0], purpose));
}

/** The payload, or why the cookie did not open: "expired" only when one of the keys opened it. */
async function unseal(
  token: string,
  keys: CookieKeys,
  purpose: Purpose,
  nowMs: number,
  audience?: SessionAudience,
): Promise<{ payload: Record<string, unknown> } | { failure: UnsealFailure }> {
  for (const key of keys) {
    try {
      const { payload, protectedHeader } = await jwtDecrypt(token, keyFor(key, purpose), {
        currentDate: new Date(nowMs),
        keyManagementAlgorithms: ["dir"],
        contentEncryptionAlgorithms: ["A256GCM"],
        ...(audience ? { issuer: audience.issuer, audience: audience.clientId } : {}),
      });
      if (protectedHeader.typ !== purpose) return { failure: "invalid" };
      return { payload };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return { failure: "expired" };
      if (error instanceof joseErrors.JWTClaimValidationFailed) return { failure: "invalid" };
    }
  }
  return { failure: "invalid" };
}

export function sealSession(
  session: SealedSession,
  audience: SessionAudience,
  keys: CookieKeys,
  nowMs = Date.now(),
): Promise<string> {
  return seal({ ...session }, keys, "session", SESSION_TTL_SECONDS, nowMs, audience);
}

/**
 * The user, the server-side session's id, and when the cookie ends (epoch ms); only a session of
 * this issuer and client opens, and only one that names a server-side session (older cookies do not).
 */
export async function openSession(
  token: string,
  audience: SessionAudience,
  keys: CookieKeys,
  nowMs = Date.now(),
): Promise<{ user: SessionUser; sid: string; expiresAt: number } | { failure: UnsealFailure }> {
  const opened = await unseal(token, keys, "session", nowMs, audience);
  if ("failure" in opened) return opened;
  const { sub, name, email, groups, exp, sid } = opened.payload;
  if (typeof sub !== "string" || typeof name !== "string" || !Array.isArray(groups) || typeof exp !== "number")
    return { failure: "invalid" };
  if (typeof sid !== "string") return { failure: "invalid" };
  return {
    user: {
      sub,
      name,
      email: typeof email === "string" ? email : null,
      groups: groups.filter((g): g is string => typeof g === "string"),
    },
    sid,
    expiresAt: exp * 1000,
  };
}

export function sealSignInState(state: SignInState, keys: CookieKeys, nowMs = Date.now()): Promise<string> {
  return seal({ ...state }, keys, "sign-in", SIGN_IN_TTL_SECONDS, nowMs);
}

export async function openSignInState(
  token: string,
  keys: CookieKeys,
  nowMs = Date.now(),
): Promise<SignInState | null> {
  const opened = await unseal(token, keys, "sign-in", nowMs);
  if ("failure" in opened) return null;
  const { state, nonce, codeVerifier, returnTo } = opened.payload;
  if (
    typeof state !== "string" ||
    typeof nonce !== "string" ||
    typeof codeVerifier !== "string" ||
    typeof returnTo !== "string"
  )
    return null;
  return { state, nonce, codeVerifier, returnTo };
}
