import { Dashboard } from "@/components/Dashboard";
import { DEFAULT_MARKET_INPUT, DEFAULT_SESSIONS_INPUT } from "@/domain/market";
import { HydrateClient, serverApi } from "@/trpc/server";

// Live data: render on every request, never at build time.
export const dynamic = "force-dynamic";

export default async function Page() {
  // Server-rendered with data, so the page is useful before its JavaScript runs.
  await Promise.all([
    serverApi.sessions.active.prefetch(DEFAULT_SESSIONS_INPUT),
    serverApi.market.candles.prefetch(DEFAULT_MARKET_INPUT),
    serverApi.health.status.prefetch(),
  ]);
  return (
    <HydrateClient>
      <Dashboard />
    </HydrateClient>
  );
}
