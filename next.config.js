/** @type {import('next').NextConfig} */
const nextConfig = {
  // The Dockerfile builds a standalone server; `npm start` (next start) needs the regular output.
  ...(process.env.NEXT_OUTPUT === "standalone" ? { output: "standalone" } : {}),
  reactStrictMode: true,
  poweredByHeader: false,
  serverExternalPackages: ["pg", "pino", "pino-pretty", "prom-client"],
};

module.exports = nextConfig;
