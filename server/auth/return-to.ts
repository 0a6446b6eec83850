/**
 * Where to go after sign-in: a path on this site, never another origin. "//evil.example",
 * "/\evil.example", "https://evil.example" and "javascript:" all become "/" — an open redirect
 * through the sign-in page would hand phishing links this site's name.
 */
export function safeReturnTo(raw: string | null | undefined): string {
  if (!raw?.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) return "/";
  if (/[\u0000-\u001f\\]/.test(raw)) return "/";
  const base = "http://same-origin.invalid";
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return "/";
  }
  if (url.origin !== base) return "/";
  // Never back into the sign-in machinery: that would loop.
  if (url.pathname.startsWith("/api/auth/")) return "/";
  return `${url.pathname}${url.search}`;
}
