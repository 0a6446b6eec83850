import { NextResponse, type NextRequest } from "next/server";
import { isPublicHost, publicOrigin, wrongHostAnswer } from "./server/auth/public-origin";
import { providerOrigin } from "./server/auth/provider-logout";
import { HSTS_VALUE, contentSecurityPolicy, newNonce } from "./server/auth/security-headers";
import { viewerOf } from "./server/auth/viewer";
import { env } from "./server/env";

/**
 * In front of every request but static files: with PUBLIC_URL set, a request for another Host is
 * refused (421) before anything answers it, API included. Then, for pages only (the API routes
 * answer 401 themselves): a fresh CSP nonce for Next.js's scripts, HSTS over https, and with
 * AUTH_MODE=oidc the door — no session goes to sign-in, a user outside OIDC_ALLOWED_GROUPS goes to
 * /not-allowed.
 */

/** Pages anyone may see: where sign-in failures and sign-out end. */
const OPEN_PAGES = new Set(["/auth/error", "/signed-out"]);

export async function proxy(request: NextRequest): Promise<NextResponse | Response> {
  const config = env();
  if (!isPublicHost(request.headers, config)) return wrongHostAnswer(config);
  const { pathname, search } = request.nextUrl;
  if (pathname.startsWith("/api/")) return NextResponse.next();
  const { origin, https } = publicOrigin(request.headers, config, request.url);

  if (config.AUTH_MODE === "oidc" && !OPEN_PAGES.has(pathname)) {
    const viewer = await viewerOf(request.headers, config);
    if (viewer.kind === "anonymous") {
      const signIn = new URL("/api/auth/signin", origin);
      signIn.searchParams.set("returnTo", `${pathname}${search}`);
      return withHeaders(NextResponse.redirect(signIn, 303), https);
    }
    if (viewer.kind === "not-allowed" && pathname !== "/not-allowed") {
      return withHeaders(NextResponse.redirect(new URL("/not-allowed", origin), 303), https);
    }
  }

  const nonce = newNonce();
  const dev = process.env.NODE_ENV === "development";
  const csp = contentSecurityPolicy(nonce, { dev, https, providerOrigin: providerOrigin(config) });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("content-security-policy", csp);
  const res = NextResponse.next({ request: { headers: requestHeaders } });
  res.headers.set("content-security-policy", csp);
  return withHeaders(res, https);
}

function withHeaders(res: NextResponse, https: boolean): NextResponse {
  if (https) res.headers.set("strict-transport-security", HSTS_VALUE);
  return res;
}

export const config = {
  matcher: [{ source: "/((?!_next/static|_next/image|icon.svg|favicon.ico).*)" }],
};
