import { AccountBadge } from "@/components/AccountBadge";
import { Dashboard } from "@/components/Dashboard";
import { DEFAULT_MARKET_INPUT, DEFAULT_SESSIONS_INPUT } from "@/contract/market";
import { HydrateClient, requestContext, serverApi } from "@/trpc/server";

// Live data: render on every request, never at build time.
export const dynamic = "force-dynamic";

export default async function Page() {
  // proxy.ts has let only an operator (or anyone, with AUTH_MODE=none) this far.
  const { viewer } = await requestContext();
  // Server-rendered with data, so the page is useful before its JavaScript runs.
  await Promise.all([
    serverApi.sessions.active.prefetch(DEFAULT_SESSIONS_INPUT),
    serverApi.market.candles.prefetch(DEFAULT_MARKET_INPUT),
    serverApi.health.status.prefetch(),
  ]);
  return (
    <HydrateClient>
      <Dashboard account={<AccountBadge viewer={viewer} />} />
    </HydrateClient>
  );
}
