import { AccountBadge } from "@/components/AccountBadge";
import { Dashboard } from "@/components/Dashboard";
import { parseMarketSelection } from "@/components/market-selection";
import { DEFAULT_MARKET_INPUT, DEFAULT_SESSIONS_INPUT } from "@/contract/market";
import { HydrateClient, requestContext, serverApi } from "@/trpc/server";

// Live data: render on every request, never at build time.
export const dynamic = "force-dynamic";

export default async function Page({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  // proxy.ts has let only an operator (or anyone, with AUTH_MODE=none) this far.
  const { viewer } = await requestContext();
  // The URL is the chart's state: `/?symbol=ETH-USD&interval=5m` opens on that chart.
  const market = parseMarketSelection(await searchParams);
  // Server-rendered with data, so the page is useful before its JavaScript runs.
  await Promise.all([
    serverApi.sessions.active.prefetch(DEFAULT_SESSIONS_INPUT),
    serverApi.market.candles.prefetch({ ...market, limit: DEFAULT_MARKET_INPUT.limit }),
    serverApi.health.status.prefetch(),
    serverApi.market.symbols.prefetch(),
  ]);
  return (
    <HydrateClient>
      <Dashboard account={<AccountBadge viewer={viewer} />} market={market} renderedAt={Date.now()} />
    </HydrateClient>
  );
}
