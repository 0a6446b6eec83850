import { env } from "@/server/env";
import { questdbService } from "@/server/questdb/service";

export const dynamic = "force-dynamic";

/** 200 while the app runs: "degraded" means cached data is being served, not a dead app. */
export function GET() {
  return Response.json(questdbService(env).health(), {
    headers: { "cache-control": "no-store" },
  });
}
