/**
 * The origin the browser sees (scheme://host[:port]), from the Host header and, behind a TLS
 * terminating proxy, X-Forwarded-Proto. It names the sign-in callback (the provider accepts only
 * the redirect URIs registered with it, so a forged Host gains nothing) and is what a sign-out's
 * Origin header must equal.
 */
export interface PublicOrigin {
  origin: string;
  https: boolean;
}

export function publicOrigin(headers: Headers, requestUrl: string): PublicOrigin {
  const url = new URL(requestUrl);
  const forwarded = headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  const protocol = forwarded === "https" || forwarded === "http" ? `${forwarded}:` : url.protocol;
  const host = headers.get("host")?.trim() || url.host;
  return { origin: `${protocol}//${host}`, https: protocol === "https:" };
}
