import { canSeeData, hasMetricsToken, viewerOf } from "@/server/auth/viewer";
import { env } from "@/server/env";
import { withRequestLog } from "@/server/observability/http-log";
import { createRouteLimiter } from "@/server/rate-limit";
import { questdbService } from "@/server/compose";

export const dynamic = "force-dynamic";

/** Load balancers poll this: its own budget per client, apart from the page's tRPC calls. */
const limiter = createRouteLimiter(env());

/**
 * 200 while the app runs: "degraded" means cached data is being served, not a dead app. Never
 * waits on QuestDB. A load balancer needs only `status`; the details (breaker, pool, the last
 * error with QuestDB's address) are for a signed-in operator or a holder of METRICS_TOKEN.
 */
export const GET = withRequestLog(async (req) => {
  const refused = await limiter.refuse(req);
  if (refused) return refused;
  const health = questdbService(env).health();
  const details = canSeeData(await viewerOf(req.headers, env())) || hasMetricsToken(req.headers, env());
  return Response.json(details ? health : { status: health.status }, { headers: { "cache-control": "no-store" } });
});
