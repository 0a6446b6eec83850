"use client";

import { type ReactNode, useState } from "react";
import {
  CANDLE_INTERVALS,
  type CandleInterval,
  DEFAULT_MARKET_INPUT,
  DEFAULT_SESSIONS_INPUT,
  TRADE_SYMBOLS,
} from "@/contract/market";
import { CandlesChart } from "./CandlesChart";
import { HealthPanel } from "./HealthPanel";
import { dataTime } from "./kept-answer";
import { LiveTransportProvider, useTabTransport } from "./LiveTransportProvider";
import { liveCandles, liveSessions } from "./live-procedures";
import { isAppUnreachable, type PanelQuery, panelState, ResilientPanel } from "./ResilientPanel";
import { SessionsTable } from "./SessionsTable";
import { pageStatus, StatusChip } from "./StatusChip";
import { useLiveAnswer } from "./use-live-answer";
import { useServiceHealth } from "./use-service-health";

/**
 * The page: its panels laid out. How each gets its data (streamed, polled, paused, kept) is
 * useLiveAnswer's business; the tab's one transport is shared through LiveTransportProvider.
 * `account`: who is signed in and sign-out, rendered on the server (components/AccountBadge.tsx).
 */
export function Dashboard({ account }: { account?: ReactNode }) {
  return (
    <LiveTransportProvider>
      <DashboardPanels account={account} />
    </LiveTransportProvider>
  );
}

function DashboardPanels({ account }: { account?: ReactNode }) {
  const [symbol, setSymbol] = useState<string>(DEFAULT_MARKET_INPUT.symbol);
  const [interval, setCandleInterval] = useState<CandleInterval>(DEFAULT_MARKET_INPUT.interval);
  const sessions = useLiveAnswer(liveSessions, DEFAULT_SESSIONS_INPUT);
  const candles = useLiveAnswer(liveCandles, { symbol, interval, limit: DEFAULT_MARKET_INPUT.limit });
  const { health, timeline } = useServiceHealth();
  const healthUnreachable = isAppUnreachable(health);
  return (
    <>
      <header className="page-header">
        <h1>Trading operations</h1>
        <div className="header-end">
          <PageStatusChip panels={[sessions, candles]} healthUnreachable={healthUnreachable} />
          {account}
        </div>
      </header>
      <main className="grid">
        <ResilientPanel title="Active sessions" query={sessions} id="sessions" skeleton={<TableSkeleton />}>
          {(data) => <SessionsTable sessions={data} />}
        </ResilientPanel>
        <ResilientPanel
          title={`Market · ${symbol} · ${interval}`}
          query={candles}
          id="market"
          placeholderLabel={`Loading ${symbol} ${interval}… showing the previous chart`}
          testIdPrefix="market-"
          controls={
            <MarketControls symbol={symbol} interval={interval} onSymbol={setSymbol} onInterval={setCandleInterval} />
          }
        >
          {(data) => <CandlesChart candles={data} label={`${symbol} ${interval}`} />}
        </ResilientPanel>
        <HealthPanel
          health={health.data}
          unreachableSince={healthUnreachable ? health.errorUpdatedAt : null}
          lastDataAt={health.dataUpdatedAt}
          timeline={timeline.data}
        />
      </main>
    </>
  );
}

/** The header chip: the worst of the data panels and the app, how updates arrive, the oldest data's time. */
function PageStatusChip({
  panels,
  healthUnreachable,
}: {
  panels: readonly PanelQuery<unknown>[];
  healthUnreachable: boolean;
}) {
  const { transport, reconnecting } = useTabTransport();
  const status = pageStatus([...panels.map(panelState), healthUnreachable ? "unreachable" : "ok"]);
  const shownTimes = panels.flatMap(({ data }) => (data && data.status !== "error" ? [dataTime(data)] : []));
  const dataAsOf = shownTimes.length ? Math.min(...shownTimes) : null;
  return <StatusChip status={status} transport={transport} reconnecting={reconnecting} dataAsOf={dataAsOf} />;
}

interface MarketControlsProps {
  symbol: string;
  interval: CandleInterval;
  onSymbol: (symbol: string) => void;
  onInterval: (interval: CandleInterval) => void;
}

function MarketControls({ symbol, interval, onSymbol, onInterval }: MarketControlsProps) {
  return (
    <div className="controls">
      <label>
        Symbol{" "}
        <select value={symbol} onChange={(e) => onSymbol(e.target.value)} data-testid="market-symbol">
          {TRADE_SYMBOLS.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      <label>
        Interval{" "}
        <select
          value={interval}
          onChange={(e) => onInterval(e.target.value as CandleInterval)}
          data-testid="market-interval"
        >
          {CANDLE_INTERVALS.map((i) => (
            <option key={i}>{i}</option>
          ))}
        </select>
      </label>
    </div>
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
