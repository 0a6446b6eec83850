import * as client from "openid-client";
import type { Env } from "@/server/env";
import { checkProviderAnswers, providerConfiguration } from "./oidc-client";

/**
 * RP-initiated logout: after the dashboard's own sign-out, the browser goes on to the provider's
 * `end_session_endpoint` (with the ID token as a hint and /signed-out to come back to), so "Sign in
 * again" on a shared screen asks for a password. Skipped, to /signed-out directly, when the provider
 * has no such endpoint (Google), it is not on the provider's own origin (the pages' CSP lets a form
 * lead only there), or the provider does not answer now (the browser would land on a dead address).
 */
export async function providerLogoutUrl(env: Env, idToken: string | null, signedOutUrl: string): Promise<URL | null> {
  if (env.AUTH_MODE !== "oidc" || idToken === null) return null;
  try {
    const config = await providerConfiguration(env);
    const endpoint = config.serverMetadata().end_session_endpoint;
    if (!endpoint || new URL(endpoint).origin !== providerOrigin(env)) return null;
    await checkProviderAnswers(env);
    return client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: signedOutUrl });
  } catch {
    return null;
  }
}

/** The provider's origin, where a sign-out form may lead (the pages' CSP form-action); null without OIDC. */
export function providerOrigin(env: Pick<Env, "AUTH_MODE" | "OIDC_ISSUER">): string | null {
  return env.AUTH_MODE === "oidc" && URL.canParse(env.OIDC_ISSUER) ? new URL(env.OIDC_ISSUER).origin : null;
}
