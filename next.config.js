/**
 * Headers every response carries, API and static files included; the page's CSP (with a nonce per
 * request) and HSTS (over https only) are set by proxy.ts.
 */
const SECURITY_HEADERS = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=(), usb=()" },
  { key: "X-Frame-Options", value: "DENY" },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  // The Dockerfile builds a standalone server; `npm start` (next start) needs the regular output.
  ...(process.env.NEXT_OUTPUT === "standalone" ? { output: "standalone" } : {}),
  reactStrictMode: true,
  // `npm run dev` is opened as localhost or 127.0.0.1; both may load the dev server's assets.
  allowedDevOrigins: ["127.0.0.1", "localhost"],
  poweredByHeader: false,
  async headers() {
    return [{ source: "/:path*", headers: SECURITY_HEADERS }];
  },
  serverExternalPackages: ["pg", "pino", "pino-pretty", "prom-client"],
};

module.exports = nextConfig;
