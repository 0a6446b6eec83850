import * as client from "openid-client";
import type { Env } from "@/server/env";
import { describe, isNetworkFailure, providerConfiguration, stringArray, tokensOf, userOf } from "./oidc-client";
import type { RecheckOutcome } from "./session-recheck";
import type { SessionRecord } from "./session-record";

/**
 * Asks the provider about a session's account again: with its refresh token (a new ID token with
 * the groups as they are now; a disabled account or a revoked grant is refused), or, when the
 * provider gave none, userinfo with the access token. What the answer means: session-recheck.ts.
 */

export async function recheckWithProvider(env: Env, record: SessionRecord): Promise<RecheckOutcome> {
  let config: client.Configuration;
  try {
    config = await providerConfiguration(env);
  } catch (error) {
    return { kind: "unreachable", why: describe(error) };
  }
  try {
    if (record.refreshToken) return await refreshed(config, record);
    if (record.accessToken) return await fromUserinfo(config, record, record.accessToken);
    return { kind: "refused", why: "the provider gave no token to ask with (neither refresh nor access token)" };
  } catch (error) {
    return classify(error);
  }
}

async function refreshed(config: client.Configuration, record: SessionRecord): Promise<RecheckOutcome> {
  const answer = await client.refreshTokenGrant(config, record.refreshToken!);
  const tokens = tokensOf(answer, record);
  const claims = answer.claims();
  if (!claims) return fromUserinfo(config, { ...record, ...tokens }, answer.access_token);
  return { kind: "confirmed", user: await userOf(config, claims, answer.access_token), tokens };
}

async function fromUserinfo(
  config: client.Configuration,
  record: SessionRecord,
  accessToken: string,
): Promise<RecheckOutcome> {
  const info = await client.fetchUserInfo(config, accessToken, record.user.sub);
  const user = { ...record.user, groups: stringArray(info.groups) ?? [] };
  return {
    kind: "confirmed",
    user,
    tokens: { refreshToken: record.refreshToken, accessToken, idToken: record.idToken },
  };
}

/** A refusal in the provider's words; no answer at all (or its own failure, 5xx) is "unreachable". */
function classify(error: unknown): RecheckOutcome {
  if (error instanceof client.ResponseBodyError && error.status < 500)
    return { kind: "refused", why: `${error.error}${error.error_description ? ` (${error.error_description})` : ""}` };
  if (error instanceof client.WWWAuthenticateChallengeError)
    return { kind: "refused", why: `userinfo refused the access token (HTTP ${error.status})` };
  if (isNetworkFailure(error) || (error instanceof client.ResponseBodyError && error.status >= 500))
    return { kind: "unreachable", why: describe(error) };
  // An answer that fails the library's checks cannot vouch for the account.
  return { kind: "refused", why: `the provider's answer failed a check: ${describe(error)}` };
}
