import { env } from "@/server/env";
import { withRequestLog } from "@/server/observability/http-log";
import { processMetrics } from "@/server/observability/metrics";
import { questdbService } from "@/server/questdb/service";

export const dynamic = "force-dynamic";

export const GET = withRequestLog(async () => {
  questdbService(env); // the pool and breaker gauges exist from the first scrape on
  const { registry } = processMetrics();
  return new Response(await registry.metrics(), {
    headers: { "content-type": registry.contentType, "cache-control": "no-store" },
  });
});
