import type { Env } from "@/server/env";

/**
 * The origin the browser sees (scheme://host[:port]). With PUBLIC_URL set it is that address, and a
 * request for any other Host is refused (421): a DNS-rebinding page or a forged Host then gets
 * nothing, in both AUTH_MODEs. Unset (development), it is taken from the Host header and, behind a
 * TLS terminating proxy, X-Forwarded-Proto. It names the sign-in callback, is what a sign-out's
 * Origin header must equal, and decides the cookies' names (`__Host-` over https).
 */
export interface PublicOrigin {
  origin: string;
  https: boolean;
}

type OriginSettings = Pick<Env, "PUBLIC_URL">;

export function publicOrigin(headers: Headers, env: OriginSettings, requestUrl?: string): PublicOrigin {
  if (env.PUBLIC_URL) return { origin: env.PUBLIC_URL, https: env.PUBLIC_URL.startsWith("https:") };
  const url = requestUrl ? new URL(requestUrl) : null;
  const forwarded = headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  const protocol = forwarded === "https" || forwarded === "http" ? `${forwarded}:` : (url?.protocol ?? "http:");
  const host = headers.get("host")?.trim() || url?.host || "localhost";
  return { origin: `${protocol}//${host}`, https: protocol === "https:" };
}

/** Whether the request's Host is the one PUBLIC_URL names (any host when it is unset). */
export function isPublicHost(headers: Headers, env: OriginSettings): boolean {
  if (!env.PUBLIC_URL) return true;
  const expected = new URL(env.PUBLIC_URL);
  const host = headers.get("host")?.trim();
  // A host name, an IPv4 or a bracketed IPv6 address and a port: nothing a URL parser would read otherwise.
  if (!host || !/^[a-z0-9.\-:[\]]+$/i.test(host) || !URL.canParse(`${expected.protocol}//${host}`)) return false;
  // Through the URL parser, so "Dashboard.Example.com:443" is the same host as https://dashboard.example.com.
  return new URL(`${expected.protocol}//${host}`).host === expected.host;
}

/** The answer to a request for another host: 421 Misdirected Request, the status HTTP has for it. */
export function wrongHostAnswer(env: OriginSettings): Response {
  return Response.json(
    { error: `This server answers only for ${env.PUBLIC_URL} (PUBLIC_URL); the request named another host` },
    { status: 421, headers: { "cache-control": "no-store" } },
  );
}
