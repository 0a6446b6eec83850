import type { CandleInterval } from "@/contract/market";

/**
 * The SQL the dashboard runs, each with bound parameters only. No client text is ever spliced
 * into SQL: the candle interval, which QuestDB's SAMPLE BY cannot take as a parameter, comes from
 * a fixed map of the three allowed values.
 */

export interface PreparedQuery<T> {
  sql: string;
  params: readonly unknown[];
  map: (rows: Record<string, unknown>[]) => T;
}

export interface ActiveSession {
  sessionId: string;
  strategy: string;
  symbol: string;
  mode: "live" | "paper";
  pnl: number;
  startedAt: string;
  updatedAt: string;
}

export interface Candle {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

const SAMPLE_BY: Record<CandleInterval, { sampleBy: string; lookback: string }> = {
  "1m": { sampleBy: "1m", lookback: "dateadd('h', -24, now())" },
  "5m": { sampleBy: "5m", lookback: "dateadd('d', -3, now())" },
  "1h": { sampleBy: "1h", lookback: "dateadd('d', -30, now())" },
};

const text = (value: unknown): string => (value === null || value === undefined ? "" : String(value));
const number = (value: unknown): number => (typeof value === "number" ? value : Number(value));

/** Active = the latest event of each session says "running" (LATEST ON, not UPDATE). Newest first. */
export function activeSessionsQuery(limit: number): PreparedQuery<ActiveSession[]> {
  return {
    sql: `SELECT session_id, strategy, symbol, mode, pnl, started_at, ts
FROM (session_events LATEST ON ts PARTITION BY session_id)
WHERE status = 'running'
ORDER BY started_at DESC
LIMIT $1`,
    params: [limit],
    map: (rows) =>
      rows.map((row) => ({
        sessionId: text(row.session_id),
        strategy: text(row.strategy),
        symbol: text(row.symbol),
        mode: row.mode === "live" ? "live" : "paper",
        pnl: number(row.pnl),
        startedAt: text(row.started_at),
        updatedAt: text(row.ts),
      })),
  };
}

/** OHLCV candles, oldest first, the most recent `limit` of them. */
export function candlesQuery(symbol: string, interval: CandleInterval, limit: number): PreparedQuery<Candle[]> {
  const { sampleBy, lookback } = SAMPLE_BY[interval];
  return {
    sql: `SELECT ts, first(price) AS open, max(price) AS high, min(price) AS low, last(price) AS close,
  sum(amount) AS volume
FROM trades
WHERE symbol = $1 AND ts >= ${lookback}
SAMPLE BY ${sampleBy} ALIGN TO CALENDAR
ORDER BY ts DESC
LIMIT $2`,
    params: [symbol, limit],
    map: (rows) =>
      rows
        .map((row) => ({
          time: text(row.ts),
          open: number(row.open),
          high: number(row.high),
          low: number(row.low),
          close: number(row.close),
          volume: number(row.volume),
        }))
        .reverse(),
  };
}
