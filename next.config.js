/** @type {import('next').NextConfig} */
const nextConfig = {
  output: "standalone",
  reactStrictMode: true,
  poweredByHeader: false,
  serverExternalPackages: ["pg", "pino", "pino-pretty", "prom-client"],
};

module.exports = nextConfig;
