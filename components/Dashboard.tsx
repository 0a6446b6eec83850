"use client";

import { skipToken } from "@tanstack/react-query";
import { useEffect, useState, type ReactNode } from "react";
import {
  CANDLE_INTERVALS,
  DEFAULT_MARKET_INPUT,
  DEFAULT_SESSIONS_INPUT,
  TRADE_SYMBOLS,
  type CandleInterval,
} from "@/contract/market";
import { POLL_INTERVAL_MS } from "@/trpc/query-client";
import { api } from "@/trpc/react";
import { CandlesChart } from "./CandlesChart";
import { HealthPanel } from "./HealthPanel";
import { ResilientPanel, isAppUnreachable, panelState } from "./ResilientPanel";
import { SessionsTable } from "./SessionsTable";
import { useLiveTransport, type SubscriptionStatus, type Transport } from "./live-transport";
import { dataTime } from "./kept-answer";
import { StatusChip, pageStatus } from "./StatusChip";

/** `account`: who is signed in and sign-out, rendered on the server (components/AccountBadge.tsx). */
export function Dashboard({ account }: { account?: ReactNode }) {
  const [symbol, setSymbol] = useState<string>(DEFAULT_MARKET_INPUT.symbol);
  const [interval, setCandleInterval] = useState<CandleInterval>(DEFAULT_MARKET_INPUT.interval);

  const candlesInput = { symbol, interval, limit: DEFAULT_MARKET_INPUT.limit };

  // Pushed while this tab streams; polled while it cannot (no stream slot, the stream failing or
  // reconnecting); neither while hidden. Pushed answers land in the same query cache the panels read.
  const [streamStates, setStreamStates] = useState<SubscriptionStatus[]>([]);
  const { transport, reconnecting } = useLiveTransport(streamStates);
  const streaming = transport === "sse";
  const utils = api.useUtils();
  const sessionsStream = api.sessions.onActive.useSubscription(streaming ? DEFAULT_SESSIONS_INPUT : skipToken, {
    onData: (event) => utils.sessions.active.setData(DEFAULT_SESSIONS_INPUT, event.data),
  });
  const candlesStream = api.market.onCandles.useSubscription(streaming ? candlesInput : skipToken, {
    onData: (event) => utils.market.candles.setData(candlesInput, event.data),
  });
  useEffect(() => {
    setStreamStates(streaming ? [sessionsStream.status, candlesStream.status] : []);
  }, [streaming, sessionsStream.status, candlesStream.status]);

  const sessions = api.sessions.active.useQuery(DEFAULT_SESSIONS_INPUT, {
    placeholderData: (previous) => previous,
    refetchInterval: pollEvery(transport, sessionsStream.status),
  });
  const candles = api.market.candles.useQuery(candlesInput, {
    // Switching symbol keeps the old chart, marked as the previous symbol's, until the new one arrives.
    placeholderData: (previous) => previous,
    refetchInterval: pollEvery(transport, candlesStream.status),
  });
  const health = api.health.status.useQuery(undefined, {
    placeholderData: (previous) => previous,
    refetchInterval: pollEvery(transport),
  });
  const timeline = api.health.timeline.useQuery(undefined, {
    placeholderData: (previous) => previous,
    refetchInterval: pollEvery(transport),
  });
  const healthUnreachable = isAppUnreachable(health);

  const status = pageStatus([panelState(sessions), panelState(candles), healthUnreachable ? "unreachable" : "ok"]);
  const shownTimes = [sessions.data, candles.data].flatMap((answer) =>
    answer && answer.status !== "error" ? [dataTime(answer)] : [],
  );
  const dataAsOf = shownTimes.length ? Math.min(...shownTimes) : null;

  return (
    <>
      <header className="page-header">
        <h1>Trading operations</h1>
        <div className="header-end">
          <StatusChip status={status} transport={transport} reconnecting={reconnecting} dataAsOf={dataAsOf} />
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

/** How often a query polls: never while its stream is live or the tab is hidden. */
function pollEvery(transport: Transport, stream?: SubscriptionStatus): number | false {
  if (transport === "paused") return false;
  if (transport === "sse" && stream === "pending") return false;
  return POLL_INTERVAL_MS;
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
