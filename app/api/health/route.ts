import { env } from "@/server/env";
import { withRequestLog } from "@/server/observability/http-log";
import { questdbService } from "@/server/questdb/service";

export const dynamic = "force-dynamic";

/** 200 while the app runs: "degraded" means cached data is being served, not a dead app. Never waits on QuestDB. */
export const GET = withRequestLog(() =>
  Response.json(questdbService(env).health(), { headers: { "cache-control": "no-store" } }),
);
