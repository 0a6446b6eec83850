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
  /**
   * The tables it reads: a live topic runs it again only when one of them moved (server/live/
   * change-detector.ts). A query that names none is refreshed at every LIVE_INTERVAL_MS instead.
   */
  tables?: readonly string[];
}

/** The tables the dashboard reads (demo/schema.ts creates them; WAL tables, so wal_tables() sees their commits). */
export const TABLES = { trades: "trades", sessionEvents: "session_events" } as const;

/**
 * Each WAL table's writer transaction: it moves once a commit is applied (visible to queries), for
 * every kind of write — one query for all tables, about as cheap as SELECT 1 (README "Pushed, not polled").
 */
export function tableVersionsQuery(tables: readonly string[]): PreparedQuery<Map<string, string>> {
  return {
    sql: "SELECT name, writerTxn FROM wal_tables()",
    params: [],
    map: (rows) => {
      const versions = new Map<string, string>();
      for (const row of rows) if (tables.includes(text(row.name))) versions.set(text(row.name), text(row.writerTxn));
      return versions;
    },
  };
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
FROM (${TABLES.sessionEvents} LATEST ON ts PARTITION BY session_id)
WHERE status = 'running'
ORDER BY started_at DESC
LIMIT $1`,
    params: [limit],
    tables: [TABLES.sessionEvents],
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
FROM ${TABLES.trades}
WHERE symbol = $1 AND ts >= ${lookback}
SAMPLE BY ${sampleBy} ALIGN TO CALENDAR
ORDER BY ts DESC
LIMIT $2`,
    params: [symbol, limit],
    tables: [TABLES.trades],
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

/**
 * The symbols QuestDB has trades for, sorted. DISTINCT over a SYMBOL column is answered from the
 * column's symbol table, not by scanning the trades (so no ORDER BY here: sorting is done after).
 */
export function symbolsQuery(): PreparedQuery<string[]> {
  return {
    sql: "SELECT DISTINCT symbol FROM trades",
    params: [],
    map: (rows) =>
      rows
        .map((row) => text(row.symbol))
        .filter((symbol) => symbol !== "")
        .sort(),
  };
}
