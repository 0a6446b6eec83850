/** @type {import('next').NextConfig} */
const nextConfig = {
  // The Dockerfile builds a standalone server; `npm start` (next start) needs the regular output.
  ...(process.env.NEXT_OUTPUT === "standalone" ? { output: "standalone" } : {}),
  reactStrictMode: true,
  // `npm run dev` is opened as localhost or 127.0.0.1; both may load the dev server's assets.
  allowedDevOrigins: ["127.0.0.1", "localhost"],
  poweredByHeader: false,
  serverExternalPackages: ["pg", "pino", "pino-pretty", "prom-client"],
};

module.exports = nextConfig;
