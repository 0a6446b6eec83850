import { NextResponse } from "next/server";
import { clearSignInCookie, setSessionCookie, signInCookieName } from "@/server/auth/auth-cookies";
import { SignInError, finishSignIn, type SignInFailure } from "@/server/auth/oidc-client";
import { publicOrigin } from "@/server/auth/public-origin";
import { returnToUrl } from "@/server/auth/return-to";
import { cookieKeys, openSignInState, sealSession, sessionAudience } from "@/server/auth/session-cookie";
import { sessionService } from "@/server/auth/session-service";
import { isAllowed, readCookie } from "@/server/auth/viewer";
import { env } from "@/server/env";
import { withRequestLog } from "@/server/observability/http-log";
import { logEvent, logger } from "@/server/observability/logger";
import { processMetrics } from "@/server/observability/metrics";

export const dynamic = "force-dynamic";

/** GET /api/auth/callback — the provider sends the browser back here with a code. */
export const GET = withRequestLog(async (req) => {
  const config = env();
  const { origin, https } = publicOrigin(req.headers, config, req.url);
  const fail = (failure: SignInFailure, message: string) => {
    processMetrics().countSignIn(failure);
    logEvent(logger, "warn", "auth.sign_in_failed", { phase: "callback", failure, error: message });
    const res = NextResponse.redirect(new URL(`/auth/error?reason=${failure}`, origin), 303);
    clearSignInCookie(res, https);
    return res;
  };
  if (config.AUTH_MODE !== "oidc") return NextResponse.redirect(new URL("/", origin), 303);

  const sealed = readCookie(req.headers, signInCookieName(https));
  const started = sealed ? await openSignInState(sealed, cookieKeys(config)) : null;
  if (!started)
    return fail("sign_in_expired", "no sign-in in progress (the sign-in cookie is missing, expired or not ours)");

  const requestUrl = new URL(req.url);
  const callbackUrl = new URL(`${origin}${requestUrl.pathname}${requestUrl.search}`);
  try {
    const { user, tokens } = await finishSignIn(config, callbackUrl, started);
    const allowed = isAllowed(user, config.OIDC_ALLOWED_GROUPS);
    // The session the server keeps (a sign-out or a re-check ends it); the cookie only names it.
    const { sid } = await sessionService(config).begin(user, tokens);
    processMetrics().countSignIn("signed_in");
    logEvent(logger, "info", "auth.signed_in", { sub: user.sub, groups: user.groups, allowed });
    const res = NextResponse.redirect(returnToUrl(allowed ? started.returnTo : "/not-allowed", origin), 303);
    setSessionCookie(res, await sealSession({ ...user, sid }, sessionAudience(config), cookieKeys(config)), https);
    clearSignInCookie(res, https);
    return res;
  } catch (error) {
    if (error instanceof SignInError) return fail(error.failure, error.message);
    return fail("sign_in_failed", error instanceof Error ? error.message || error.name : String(error));
  }
});
