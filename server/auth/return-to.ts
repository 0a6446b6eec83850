/**
 * Where to go after sign-in: a path on this site, never another origin. The decision is made on the
 * URL the browser will follow, not on the raw text: "/.//evil.example" and "/%2e//evil.example"
 * normalise to "//evil.example", which a browser reads as another host. An open redirect through the
 * sign-in page would hand phishing links this site's name.
 */

const SAME_ORIGIN = "http://same-origin.invalid";

/** The normalised path (and query) of `raw` on this site, or "/" when it would lead anywhere else. */
export function safeReturnTo(raw: string | null | undefined): string {
  if (!raw?.startsWith("/") || /[\u0000-\u001f\\]/.test(raw)) return "/";
  let url: URL;
  try {
    url = new URL(raw, SAME_ORIGIN);
  } catch {
    return "/";
  }
  const path = `${url.pathname}${url.search}`;
  if (url.origin !== SAME_ORIGIN || path.startsWith("//") || path.startsWith("/\\")) return "/";
  // Never back into the sign-in machinery: that would loop.
  if (url.pathname.startsWith("/api/auth/")) return "/";
  return path;
}

/** The address to send the browser to: `raw` resolved against this site's origin, and checked there again. */
export function returnToUrl(raw: string | null | undefined, origin: string): URL {
  const url = new URL(safeReturnTo(raw), origin);
  return url.origin === new URL(origin).origin ? url : new URL("/", origin);
}
