import { NextResponse } from "next/server";
import { clearSessionCookies } from "@/server/auth/auth-cookies";
import { providerLogoutUrl } from "@/server/auth/provider-logout";
import { publicOrigin } from "@/server/auth/public-origin";
import { cookieKeys, openSession, sessionAudience } from "@/server/auth/session-cookie";
import { sessionService } from "@/server/auth/session-service";
import { readCookie, sessionCookieName } from "@/server/auth/viewer";
import type { Env } from "@/server/env";
import { env } from "@/server/env";
import { withRequestLog } from "@/server/observability/http-log";
import { logEvent, logger } from "@/server/observability/logger";

export const dynamic = "force-dynamic";

/**
 * POST /api/auth/signout — only from this site's own pages: the Origin header must be this
 * origin (or, when a browser sends none, Sec-Fetch-Site must say same-origin). A cross-site form
 * cannot sign an operator out of their wall screen. The server-side session ends (a copy of the
 * cookie opens nothing; its open streams end on every instance), the cookie is dropped, and the
 * browser goes on to the provider's logout when it has one, back to /signed-out from there.
 */
export const POST = withRequestLog(async (req) => {
  const config = env();
  const { origin, https } = publicOrigin(req.headers, config, req.url);
  const from = req.headers.get("origin");
  const site = req.headers.get("sec-fetch-site");
  const sameOrigin = from !== null ? from === origin : site === "same-origin";
  if (!sameOrigin) {
    logEvent(logger, "warn", "auth.sign_out_refused", { origin: from, sec_fetch_site: site });
    return Response.json(
      { error: "Sign-out refused: the request did not come from this site's own page" },
      { status: 403 },
    );
  }
  const signedOut = new URL("/signed-out", origin);
  const idToken = await endServerSession(req.headers, config, https);
  const res = NextResponse.redirect((await providerLogoutUrl(config, idToken, signedOut.href)) ?? signedOut, 303);
  clearSessionCookies(res, https);
  return res;
});

/** Ends the server-side session the request's cookie names; its ID token (the provider's logout hint), if any. */
async function endServerSession(headers: Headers, config: Env, https: boolean): Promise<string | null> {
  if (config.AUTH_MODE !== "oidc") return null;
  const token = readCookie(headers, sessionCookieName(https));
  const opened = token ? await openSession(token, sessionAudience(config), cookieKeys(config)) : null;
  if (!opened || "failure" in opened) return null;
  const ended = await sessionService(config).end(opened.sid, "signed out");
  return ended?.idToken ?? null;
}
