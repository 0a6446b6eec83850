import { withClient } from "./pg-client";

/**
 * The two tables of the demo domain: WAL tables partitioned by day, SYMBOL columns, and DEDUP
 * UPSERT KEYS so that writing a row twice keeps one.
 */

export const TABLES = { trades: "trades", sessionEvents: "session_events" } as const;

export const TRADES_DDL =
  `CREATE TABLE IF NOT EXISTS ${TABLES.trades} (ts TIMESTAMP, symbol SYMBOL, side SYMBOL, price DOUBLE, amount DOUBLE) ` +
  "TIMESTAMP(ts) PARTITION BY DAY WAL DEDUP UPSERT KEYS(ts, symbol)";
export const SESSION_EVENTS_DDL =
  `CREATE TABLE IF NOT EXISTS ${TABLES.sessionEvents} (ts TIMESTAMP, session_id SYMBOL, strategy SYMBOL, symbol SYMBOL, ` +
  "mode SYMBOL, status SYMBOL, pnl DOUBLE, started_at TIMESTAMP) " +
  "TIMESTAMP(ts) PARTITION BY DAY WAL DEDUP UPSERT KEYS(ts, session_id)";

/** Each symbol's latest trade: where the random walk continues from (seed and feed). */
export const LATEST_TRADES_SQL = `SELECT symbol, price, cast(ts AS LONG) AS ts_us FROM ${TABLES.trades} LATEST ON ts PARTITION BY symbol`;

/** Creates `trades` and `session_events` if they do not exist. */
export async function createSchema(pgUrl: string): Promise<void> {
  await withClient(pgUrl, async (client) => {
    await client.query(TRADES_DDL);
    await client.query(SESSION_EVENTS_DDL);
  });
}
