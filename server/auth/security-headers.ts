/**
 * The Content-Security-Policy of every page: scripts only from this origin or carrying this
 * request's nonce (Next.js puts it on its own inline scripts), nothing framing the page, nothing
 * posted elsewhere but to the identity provider (the sign-out form's redirect goes on to its logout
 * endpoint, and a browser holds each redirect of a form to form-action). Styles may be inline: React
 * renders style attributes, and a style cannot run code.
 */
export function contentSecurityPolicy(
  nonce: string,
  opts: { dev: boolean; https: boolean; providerOrigin?: string | null },
): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${opts.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    `connect-src 'self'${opts.dev ? " ws: wss:" : ""}`,
    "object-src 'none'",
    "base-uri 'self'",
    `form-action 'self'${opts.providerOrigin ? ` ${opts.providerOrigin}` : ""}`,
    "frame-ancestors 'none'",
    ...(opts.https ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

/** A fresh, unguessable nonce for one response. */
export function newNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64");
}

/** Two years, the value browsers' preload lists ask for; only ever sent over https. */
export const HSTS_VALUE = "max-age=63072000; includeSubDomains";
