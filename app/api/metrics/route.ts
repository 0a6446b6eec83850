import { hasMetricsToken } from "@/server/auth/viewer";
import { env } from "@/server/env";
import { withRequestLog } from "@/server/observability/http-log";
import { processMetrics } from "@/server/observability/metrics";
import { createRouteLimiter } from "@/server/rate-limit";
import { questdbService } from "@/server/compose";

export const dynamic = "force-dynamic";

/** Every scrape costs a point, so the token cannot be guessed at speed; a budget apart from the page's. */
const limiter = createRouteLimiter(env());

/**
 * Prometheus text. With METRICS_TOKEN set, only for `Authorization: Bearer <token>` (Prometheus's
 * `authorization` scrape setting); with AUTH_MODE=oidc and no token configured, not served at all.
 */
export const GET = withRequestLog(async (req) => {
  const refused = await limiter.refuse(req);
  if (refused) return refused;
  const config = env();
  if (config.METRICS_TOKEN && !hasMetricsToken(req.headers, config)) {
    return Response.json(
      { error: "Metrics need Authorization: Bearer <METRICS_TOKEN>" },
      { status: 401, headers: { "www-authenticate": 'Bearer realm="metrics"', "cache-control": "no-store" } },
    );
  }
  if (!config.METRICS_TOKEN && config.AUTH_MODE === "oidc") {
    return Response.json(
      {
        error:
          "Metrics are not served: with AUTH_MODE=oidc, set METRICS_TOKEN " +
          "and scrape with Authorization: Bearer <token>",
      },
      { status: 404, headers: { "cache-control": "no-store" } },
    );
  }
  questdbService(env); // the pool and breaker gauges exist from the first scrape on
  const { registry } = processMetrics();
  return new Response(await registry.metrics(), {
    headers: { "content-type": registry.contentType, "cache-control": "no-store" },
  });
});
