import { EncryptJWT, jwtDecrypt, errors as joseErrors } from "jose";
import { hkdfSync } from "node:crypto";
import type { SessionUser, UnsealFailure } from "@/contract/viewer";

/**
 * The app's own cookies, sealed (encrypted and authenticated: JWE, dir + A256GCM) with a key
 * derived from AUTH_SECRET. Nothing in them can be read or changed without the key; a cookie
 * sealed with another key, changed by one byte or past its expiry opens as nothing.
 */

/** What a signed-in operator's cookie holds; the provider is never asked again until it expires. */
export type { SessionUser, UnsealFailure };

/** What the browser carries between "Sign in" and the provider's callback. */
export interface SignInState {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
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
  secret: string,
  purpose: Purpose,
  ttlSeconds: number,
  nowMs: number,
): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  return new EncryptJWT(payload)
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", typ: purpose })
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .encrypt(keyFor(secret, purpose));
}

/** Why a cookie did not open; null when it did. */
async function unseal(
  token: string,
  secret: string,
  purpose: Purpose,
  nowMs: number,
): Promise<{ payload: Record<string, unknown> } | { failure: UnsealFailure }> {
  try {
    const { payload, protectedHeader } = await jwtDecrypt(token, keyFor(secret, purpose), {
      currentDate: new Date(nowMs),
      keyManagementAlgorithms: ["dir"],
      contentEncryptionAlgorithms: ["A256GCM"],
    });
    if (protectedHeader.typ !== purpose) return { failure: "invalid" };
    return { payload };
  } catch (error) {
    return { failure: error instanceof joseErrors.JWTExpired ? "expired" : "invalid" };
  }
}

export function sealSession(user: SessionUser, secret: string, nowMs = Date.now()): Promise<string> {
  return seal({ ...user }, secret, "session", SESSION_TTL_SECONDS, nowMs);
}

/** The user, and when the session ends (epoch ms). */
export async function openSession(
  token: string,
  secret: string,
  nowMs = Date.now(),
): Promise<{ user: SessionUser; expiresAt: number } | { failure: UnsealFailure }> {
  const opened = await unseal(token, secret, "session", nowMs);
  if ("failure" in opened) return opened;
  const { sub, name, email, groups, exp } = opened.payload;
  if (typeof sub !== "string" || typeof name !== "string" || !Array.isArray(groups) || typeof exp !== "number")
    return { failure: "invalid" };
  return {
    user: {
      sub,
      name,
      email: typeof email === "string" ? email : null,
      groups: groups.filter((g): g is string => typeof g === "string"),
    },
    expiresAt: exp * 1000,
  };
}

export function sealSignInState(state: SignInState, secret: string, nowMs = Date.now()): Promise<string> {
  return seal({ ...state }, secret, "sign-in", SIGN_IN_TTL_SECONDS, nowMs);
}

export async function openSignInState(token: string, secret: string, nowMs = Date.now()): Promise<SignInState | null> {
  const opened = await unseal(token, secret, "sign-in", nowMs);
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
