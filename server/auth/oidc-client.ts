import * as client from "openid-client";
import { isLoopbackUrl, type Env } from "@/server/env";
import type { SessionUser } from "./session-cookie";
import type { ProviderTokens } from "./session-record";

/**
 * The OpenID Connect client (openid-client, certified): discovery, the authorization code flow
 * with PKCE, state and nonce, and the ID token's checks are all the library's. This file only
 * decides what to ask for and what to keep of the answer.
 */

/** Every call to the provider gives up after this long: a sign-in page must not hang. */
const PROVIDER_TIMEOUT_MS = 5_000;
/** Standard scopes only; `groups` comes as a claim (Keycloak's, Okta's and Entra's group mappers). */
export const SIGN_IN_SCOPE = "openid profile email";

/** Why a sign-in did not complete, as words the error page shows (never the provider's raw text). */
export type SignInFailure =
  | "provider_unreachable"
  | "provider_misconfigured"
  | "provider_refused"
  | "sign_in_expired"
  | "sign_in_failed";

export class SignInError extends Error {
  override name = "SignInError";
  constructor(
    readonly failure: SignInFailure,
    message: string,
  ) {
    super(message);
  }
}

const timedFetch: client.CustomFetch = (url, options) =>
  fetch(url, { ...options, signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) } as RequestInit);

let discovered: { issuer: string; config: Promise<client.Configuration> } | null = null;

/**
 * The provider's configuration, discovered once and kept; a failed discovery is forgotten at once,
 * so the next sign-in tries again instead of remembering an outage.
 */
export function providerConfiguration(env: Env): Promise<client.Configuration> {
  if (discovered?.issuer === env.OIDC_ISSUER) return discovered.config;
  const issuer = new URL(env.OIDC_ISSUER);
  const config = client
    .discovery(issuer, env.OIDC_CLIENT_ID, env.OIDC_CLIENT_SECRET, undefined, {
      [client.customFetch]: timedFetch,
      // Plain http only to a provider on this machine (a test or a local Keycloak), as env.ts allows.
      execute: issuer.protocol === "http:" && isLoopbackUrl(issuer) ? [client.allowInsecureRequests] : [],
    })
    .then((configuration) => {
      configuration[client.customFetch] = timedFetch;
      return configuration;
    })
    .catch((error: unknown) => {
      discovered = null;
      const providerIssuer = issuerNamedByProvider(error);
      if (providerIssuer !== null) {
        throw new SignInError(
          "provider_misconfigured",
          `OIDC_ISSUER is "${env.OIDC_ISSUER}" but the provider at that address names itself "${providerIssuer}": ` +
            `set OIDC_ISSUER to exactly "${providerIssuer}"`,
        );
      }
      throw new SignInError(
        "provider_unreachable",
        `OpenID provider discovery at ${env.OIDC_ISSUER} failed: ${describe(error)}`,
      );
    });
  discovered = { issuer: env.OIDC_ISSUER, config };
  return config;
}

/**
 * Whether the provider answers now. Discovery is kept, so without this a sign-in during a provider
 * outage would send the browser to a dead address ("connection refused" in the browser) instead
 * of the dashboard's own page that says what is wrong.
 */
export async function checkProviderAnswers(env: Env): Promise<void> {
  const url = `${env.OIDC_ISSUER.replace(/\/$/, "")}/.well-known/openid-configuration`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS), redirect: "manual" });
    await res.body?.cancel();
    if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
  } catch (error) {
    throw new SignInError(
      "provider_unreachable",
      `the OpenID provider at ${env.OIDC_ISSUER} does not answer: ${describe(error)}`,
    );
  }
}

/** The provider's authorization URL for one sign-in, and the secrets the callback will check. */
export async function startSignIn(
  env: Env,
  redirectUri: string,
): Promise<{ url: URL; state: string; nonce: string; codeVerifier: string }> {
  const config = await providerConfiguration(env);
  await checkProviderAnswers(env);
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: SIGN_IN_SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  return { url, state, nonce, codeVerifier };
}

/** Who signed in, and the provider's tokens (kept server-side, to ask again and to sign out there). */
export interface SignedIn {
  user: SessionUser;
  tokens: ProviderTokens;
}

/** Exchanges the callback's code (checking state, nonce, PKCE and the ID token) for who signed in. */
export async function finishSignIn(
  env: Env,
  callbackUrl: URL,
  checks: { state: string; nonce: string; codeVerifier: string },
): Promise<SignedIn> {
  const config = await providerConfiguration(env);
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      pkceCodeVerifier: checks.codeVerifier,
      idTokenExpected: true,
    });
  } catch (error) {
    if (error instanceof client.AuthorizationResponseError) {
      throw new SignInError(
        "provider_refused",
        `the provider refused the sign-in: ${error.error}${describeRefusal(error.error_description)}`,
      );
    }
    if (isNetworkFailure(error))
      throw new SignInError("provider_unreachable", `the provider's token endpoint did not answer: ${describe(error)}`);
    throw new SignInError("sign_in_failed", `the provider's answer failed a check: ${describe(error)}`);
  }
  const claims = tokens.claims();
  if (!claims) throw new SignInError("sign_in_failed", "the provider sent no ID token");
  return { user: await userOf(config, claims, tokens.access_token), tokens: tokensOf(tokens, null) };
}

/**
 * The user an ID token names; groups from its claim, or from userinfo when the token has none
 * (some providers put them there only; without them the user simply has none).
 */
export async function userOf(
  config: client.Configuration,
  claims: client.IDToken,
  accessToken: string,
): Promise<SessionUser> {
  const groups =
    stringArray(claims.groups) ??
    (await client
      .fetchUserInfo(config, accessToken, claims.sub)
      .then((info) => stringArray(info.groups) ?? [])
      .catch(() => []));
  const text = (value: unknown) => (typeof value === "string" && value.trim() !== "" ? value : null);
  return {
    sub: claims.sub,
    name: text(claims.name) ?? text(claims.preferred_username) ?? text(claims.email) ?? claims.sub,
    email: text(claims.email),
    groups,
  };
}

/** The tokens of a token endpoint answer; a refresh token not sent again stays the one we had. */
export function tokensOf(answer: client.TokenEndpointResponse, previous: ProviderTokens | null): ProviderTokens {
  return {
    refreshToken: answer.refresh_token ?? previous?.refreshToken ?? null,
    accessToken: answer.access_token ?? previous?.accessToken ?? null,
    idToken: answer.id_token ?? previous?.idToken ?? null,
  };
}

/**
 * The issuer the provider's discovery document names, when discovery failed only because it is not
 * OIDC_ISSUER character for character (most often a trailing slash); null for any other failure.
 */
function issuerNamedByProvider(error: unknown): string | null {
  if ((error as { code?: string })?.code !== "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED") return null;
  // openid-client's ClientError carries { expected, body, attribute } as its cause.
  const detail = ((error as { cause?: unknown }).cause ?? {}) as { attribute?: string; body?: { issuer?: unknown } };
  return detail.attribute === "issuer" && typeof detail.body?.issuer === "string" ? detail.body.issuer : null;
}

export function stringArray(value: unknown): string[] | null {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : null;
}

export function isNetworkFailure(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return (
    name === "TimeoutError" ||
    name === "AbortError" ||
    (error instanceof TypeError && /fetch failed/i.test(error.message))
  );
}

/** The error's own words, or its cause's (fetch's "fetch failed" hides ECONNREFUSED in cause). */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error) || "unknown error";
  const cause = (error as { cause?: unknown }).cause;
  const causeText = cause instanceof Error ? ` (${(cause as NodeJS.ErrnoException).code ?? cause.message})` : "";
  return `${error.message || error.name}${causeText}`;
}

/** The provider's own words for a refusal, in brackets, when it gave any. */
function describeRefusal(description: string | undefined): string {
  return description ? ` (${description})` : "";
}
