"use client";

import type { ReactNode } from "react";
import { DEFAULT_MARKET_INPUT, DEFAULT_SESSIONS_INPUT } from "@/contract/market";
import { CandlesChart, type CandlesChartProps } from "./CandlesChart";
import { ClockProvider } from "./clock";
import { candlesCsv, PanelCsv } from "./PanelCsv";
import { PageFooter } from "./PageFooter";
import { HealthPanel } from "./HealthPanel";
import { dataTime } from "./kept-answer";
import { LiveTransportProvider, useTabTransport } from "./LiveTransportProvider";
import { liveCandles, liveSessions } from "./live-procedures";
import { MarketControls } from "./MarketControls";
import type { OutageSpan } from "./outage-spans";
import { sharedNextCheck } from "./next-check";
import type { MarketSelection } from "./market-selection";
import { isAppUnreachable, type PanelQuery, panelState, ResilientPanel } from "./ResilientPanel";
import { SessionsTable, sessionsCsv } from "./SessionsTable";
import { StateAnnouncer } from "./StateAnnouncer";
import { pageStatus, type PageStatus, StatusChip } from "./StatusChip";
import { panelCondition } from "./state-announcements";
import { TimeZoneToggle } from "./TimeZoneToggle";
import { useLiveAnswer } from "./use-live-answer";
import { useMarketSelection } from "./use-market-selection";
import { usePageTitle } from "./use-page-title";
import { useKnownSymbols, useServiceHealth } from "./use-service-health";

export interface DashboardProps {
  /** Who is signed in and sign-out, rendered on the server (components/AccountBadge.tsx). */
  account?: ReactNode;
  /** The chart the URL asked for (`?symbol=&interval=`). */
  market?: MarketSelection;
  /** When the server rendered the page: the clock the first paint and hydration share. */
  renderedAt: number;
}

/**
 * The page: its panels laid out. How each gets its data (streamed, polled, paused, kept) is
 * useLiveAnswer's business; the tab's one transport is shared through LiveTransportProvider.
 */
export function Dashboard({ account, market = DEFAULT_MARKET_INPUT, renderedAt }: DashboardProps) {
  return (
    <ClockProvider renderedAt={renderedAt}>
      <LiveTransportProvider>
        <DashboardPanels account={account} initialMarket={market} />
      </LiveTransportProvider>
    </ClockProvider>
  );
}

function DashboardPanels({ account, initialMarket }: { account?: ReactNode; initialMarket: MarketSelection }) {
  const [market, changeMarket] = useMarketSelection(initialMarket);
  const { symbol, interval } = market;
  const sessions = useLiveAnswer(liveSessions, DEFAULT_SESSIONS_INPUT);
  const candles = useLiveAnswer(liveCandles, { symbol, interval, limit: DEFAULT_MARKET_INPUT.limit });
  const { health, timeline } = useServiceHealth();
  const healthUnreachable = isAppUnreachable(health);
  const panels = [sessions, candles];
  const status = pageStatus([...panels.map(panelState), healthUnreachable ? "unreachable" : "ok"]);
  usePageTitle(status);
  const nextCheckAt = sharedNextCheck(panels.map(({ data }) => data));
  const callersFailing = panels.some(({ data }) => data?.status !== "ok" && data?.reason === "database_unavailable");
  return (
    <>
      <header className="page-header">
        <h1>Trading operations</h1>
        <div className="header-end">
          <PageStatusChip panels={panels} status={status} />
          <TimeZoneToggle />
          {account}
        </div>
      </header>
      <StreamRefusal />
      <StateAnnouncer
        panels={[
          { name: "Sessions", condition: panelCondition(sessions) },
          { name: `Market ${symbol} ${interval}`, condition: panelCondition(candles) },
        ]}
      />
      <main className="grid">
        <ResilientPanel
          title="Active sessions"
          query={sessions}
          id="sessions"
          nextCheckAt={nextCheckAt}
          skeleton={<TableSkeleton />}
          controls={<PanelCsv what="sessions" label="active sessions" query={sessions} toCsv={sessionsCsv} />}
        >
          {(data, cachedAsOf) => <SessionsTable sessions={data} cachedAsOf={cachedAsOf} />}
        </ResilientPanel>
        <MarketPanel
          market={market}
          onChange={changeMarket}
          candles={candles}
          nextCheckAt={nextCheckAt}
          outages={timeline.data?.outages}
        />
        <HealthPanel
          health={health.data}
          unreachableSince={healthUnreachable ? health.errorUpdatedAt : null}
          lastDataAt={health.dataUpdatedAt}
          timeline={timeline.data}
          callersFailing={callersFailing}
        />
      </main>
      <PageFooter />
    </>
  );
}

interface MarketPanelProps {
  market: MarketSelection;
  onChange: (change: Partial<MarketSelection>) => void;
  candles: PanelQuery<CandlesChartProps["candles"]>;
  nextCheckAt: string | undefined;
  outages: readonly OutageSpan[] | undefined;
}

/** The price chart with its pickers (the symbols QuestDB trades) and its CSV. */
function MarketPanel({ market, onChange, candles, nextCheckAt, outages }: MarketPanelProps) {
  const { symbol, interval } = market;
  const symbols = useKnownSymbols();
  return (
    <ResilientPanel
      title={`Market · ${symbol} · ${interval}`}
      query={candles}
      id="market"
      nextCheckAt={nextCheckAt}
      placeholderLabel={`Loading ${symbol} ${interval}… showing the previous chart`}
      testIdPrefix="market-"
      controls={
        <>
          <MarketControls selection={market} symbols={symbols} onChange={onChange} />
          <PanelCsv what={`candles-${symbol}-${interval}`} label="candles" query={candles} toCsv={candlesCsv} />
        </>
      }
    >
      {(data, cachedAsOf) => (
        <CandlesChart candles={data} symbol={symbol} interval={interval} cachedAsOf={cachedAsOf} outages={outages} />
      )}
    </ResilientPanel>
  );
}

/** The header chip: the page's state, how updates arrive, the oldest data's time and the oldest stale panel's. */
function PageStatusChip({ panels, status }: { panels: readonly PanelQuery<unknown>[]; status: PageStatus }) {
  const { transport, reconnecting } = useTabTransport();
  const shown = panels.flatMap(({ data }) => (data && data.status !== "error" ? [data] : []));
  const oldest = (times: number[]) => (times.length ? Math.min(...times) : null);
  const dataAsOf = oldest(shown.map(dataTime));
  const staleAsOf = oldest(shown.filter((answer) => answer.status === "degraded").map(dataTime));
  return (
    <StatusChip
      status={status}
      transport={transport}
      reconnecting={reconnecting}
      dataAsOf={dataAsOf}
      staleAsOf={staleAsOf}
    />
  );
}

/** Said when the server refused this tab a live stream (its limit per client): the page polls meanwhile. */
function StreamRefusal() {
  const { refusal } = useTabTransport();
  if (!refusal) return null;
  return (
    <p className="transport-note" data-testid="stream-refused">
      Updates every few seconds instead of live: the server refused a live stream. <span>{refusal}</span>
    </p>
  );
}

const SKELETON_ROWS = ["a", "b", "c", "d", "e"];

function TableSkeleton() {
  return (
    <div className="skeleton-table" role="img" aria-busy="true" aria-label="Loading active sessions">
      {SKELETON_ROWS.map((row) => (
        <div key={row} className="skeleton-row" />
      ))}
    </div>
  );
}
