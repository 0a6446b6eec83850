"use client";

import { useState } from "react";
import { CANDLE_INTERVALS, type CandleInterval } from "@/server/questdb/queries";
import { api } from "@/trpc/react";
import { CandlesChart } from "./CandlesChart";
import { DEFAULT_MARKET_INPUT, SESSIONS_INPUT, SYMBOLS } from "./dashboard-inputs";
import { HealthPanel } from "./HealthPanel";
import { ResilientPanel, isAppUnreachable, panelState } from "./ResilientPanel";
import { SessionsTable } from "./SessionsTable";
import { StatusChip, pageStatus } from "./StatusChip";

export function Dashboard() {
  const [symbol, setSymbol] = useState<string>(DEFAULT_MARKET_INPUT.symbol);
  const [interval, setCandleInterval] = useState<CandleInterval>(DEFAULT_MARKET_INPUT.interval);

  const sessions = api.sessions.active.useQuery(SESSIONS_INPUT, { placeholderData: (previous) => previous });
  const candles = api.market.candles.useQuery(
    { symbol, interval, limit: DEFAULT_MARKET_INPUT.limit },
    // Switching symbol keeps the old chart until the new one arrives: no flicker.
    { placeholderData: (previous) => previous },
  );
  const health = api.health.status.useQuery(undefined, { placeholderData: (previous) => previous });
  const healthUnreachable = isAppUnreachable(health);

  const status = pageStatus([panelState(sessions), panelState(candles), healthUnreachable ? "unreachable" : "ok"]);

  return (
    <>
      <header className="page-header">
        <h1>Trading operations</h1>
        <StatusChip status={status} />
      </header>
      <main className="grid">
        <ResilientPanel title="Active sessions" query={sessions} id="sessions" skeleton={<TableSkeleton />}>
          {(data) => <SessionsTable sessions={data} />}
        </ResilientPanel>
        <ResilientPanel
          title={`Market · ${symbol} · ${interval}`}
          query={candles}
          id="market"
          testIdPrefix="market-"
          controls={
            <div className="controls">
              <label>
                Symbol{" "}
                <select value={symbol} onChange={(e) => setSymbol(e.target.value)} data-testid="market-symbol">
                  {SYMBOLS.map((s) => (
                    <option key={s}>{s}</option>
                  ))}
                </select>
              </label>
              <label>
                Interval{" "}
                <select
                  value={interval}
                  onChange={(e) => setCandleInterval(e.target.value as CandleInterval)}
                  data-testid="market-interval"
                >
                  {CANDLE_INTERVALS.map((i) => (
                    <option key={i}>{i}</option>
                  ))}
                </select>
              </label>
            </div>
          }
        >
          {(data) => <CandlesChart candles={data} label={`${symbol} ${interval}`} />}
        </ResilientPanel>
        <HealthPanel
          health={health.data}
          unreachableSince={healthUnreachable ? health.errorUpdatedAt : null}
          lastDataAt={health.dataUpdatedAt}
        />
      </main>
    </>
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
