import { NextResponse } from "next/server";
import { setSignInCookie } from "@/server/auth/auth-cookies";
import { SignInError, startSignIn } from "@/server/auth/oidc-client";
import { publicOrigin } from "@/server/auth/public-origin";
import { returnToUrl, safeReturnTo } from "@/server/auth/return-to";
import { cookieKeys, sealSignInState } from "@/server/auth/session-cookie";
import { env } from "@/server/env";
import { withRequestLog } from "@/server/observability/http-log";
import { logEvent, logger } from "@/server/observability/logger";
import { processMetrics } from "@/server/observability/metrics";

export const dynamic = "force-dynamic";

/** GET /api/auth/signin?returnTo=/path — off to the provider, with PKCE, state and nonce kept in a sealed cookie. */
export const GET = withRequestLog(async (req) => {
  const config = env();
  const { origin, https } = publicOrigin(req.headers, config, req.url);
  const returnTo = safeReturnTo(new URL(req.url).searchParams.get("returnTo"));
  if (config.AUTH_MODE !== "oidc") return NextResponse.redirect(returnToUrl(returnTo, origin), 303);
  try {
    const { url, state, nonce, codeVerifier } = await startSignIn(config, `${origin}/api/auth/callback`);
    const res = NextResponse.redirect(url, 303);
    const sealed = await sealSignInState({ state, nonce, codeVerifier, returnTo }, cookieKeys(config));
    setSignInCookie(res, sealed, https);
    return res;
  } catch (error) {
    const failure = error instanceof SignInError ? error.failure : "sign_in_failed";
    processMetrics().countSignIn(failure);
    logEvent(logger, "error", "auth.sign_in_failed", {
      phase: "start",
      failure,
      error: error instanceof Error ? error.message : String(error),
    });
    return NextResponse.redirect(
      new URL(`/auth/error?reason=${failure}&returnTo=${encodeURIComponent(returnTo)}`, origin),
      303,
    );
  }
});
