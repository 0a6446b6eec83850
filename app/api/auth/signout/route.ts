import { NextResponse } from "next/server";
import { clearSessionCookies } from "@/server/auth/auth-cookies";
import { publicOrigin } from "@/server/auth/public-origin";
import { env } from "@/server/env";
import { withRequestLog } from "@/server/observability/http-log";
import { logEvent, logger } from "@/server/observability/logger";

export const dynamic = "force-dynamic";

/**
 * POST /api/auth/signout — only from this site's own pages: the Origin header must be this
 * origin (or, when a browser sends none, Sec-Fetch-Site must say same-origin). A cross-site form
 * cannot sign an operator out of their wall screen.
 */
export const POST = withRequestLog(async (req) => {
  const { origin, https } = publicOrigin(req.headers, env(), req.url);
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
  const res = NextResponse.redirect(new URL("/signed-out", origin), 303);
  clearSessionCookies(res, https);
  return res;
});
