"use client";

import { useState, type ReactNode } from "react";
import {
  CANDLE_INTERVALS,
  DEFAULT_MARKET_INPUT,
  DEFAULT_SESSIONS_INPUT,
  TRADE_SYMBOLS,
  type CandleInterval,
} from "@/domain/market";
import { api } from "@/trpc/react";
import { CandlesChart } from "./CandlesChart";
import { HealthPanel } from "./HealthPanel";
import { ResilientPanel, isAppUnreachable, panelState } from "./ResilientPanel";
import { SessionsTable } from "./SessionsTable";
import { StatusChip, pageStatus } from "./StatusChip";

/** `account`: who is signed in and sign-out, rendered on the server (components/AccountBadge.tsx). */
export function Dashboard({ account }: { account?: ReactNode }) {
  const [symbol, setSymbol] = useState<string>(DEFAULT_MARKET_INPUT.symbol);
  const [interval, setCandleInterval] = useState<CandleInterval>(DEFAULT_MARKET_INPUT.interval);

  const sessions = api.sessions.active.useQuery(DEFAULT_SESSIONS_INPUT, { placeholderData: (previous) => previous });
  const candles = api.market.candles.useQuery(
    { symbol, interval, limit: DEFAULT_MARKET_INPUT.limit },
    // Switching symbol keeps the old chart until the new one arrives: no flicker.
    { placeholderData: (previous) => previous },
  );
  const health = api.health.status.useQuery(undefined, { placeholderData: (previous) => previous });
  const timeline = api.health.timeline.useQuery(undefined, { placeholderData: (previous) => previous });
  const healthUnreachable = isAppUnreachable(health);

  const status = pageStatus([panelState(sessions), panelState(candles), healthUnreachable ? "unreachable" : "ok"]);

  return (
    <>
      <header className="page-header">
        <h1>Trading operations</h1>
        <div className="header-end">
          <StatusChip status={status} />
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
          inputKey={`${symbol}/${interval}`}
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
        <select value={interval} onChange={(e) => onInterval(e.target.value as CandleInterval)} data-testid="market-interval">
          {CANDLE_INTERVALS.map((i) => (
            <option key={i}>{i}</option>
          ))}
        </select>
      </label>
    </div>
  );
}

function TableSkeleton() {
  return (
    <div className="skeleton-table" aria-busy="true" aria-label="Loading active sessions">
      {Array.from({ length: 5 }, (_, i) => (
        <div key={i} className="skeleton-row" />
      ))}
    </div>
  );
}
