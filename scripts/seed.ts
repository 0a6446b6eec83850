import { Sender } from "@questdb/nodejs-client";
import pg from "pg";
import { InvalidEnvError, parseEnv, redactUrlPassword } from "../server/env";
import { createLogger, logEvent, type Logger } from "../server/observability/logger";
import { isMain } from "../harness/is-main";

/**
 * `npm run seed`: the demo data set — 24 h of trades for three symbols and eight trading sessions.
 *
 * Tables are created over PG wire (CREATE TABLE IF NOT EXISTS, WAL, DEDUP UPSERT KEYS), rows are
 * written with ILP over HTTP, and the call returns only once the rows are visible to queries.
 * Idempotent: sessions are added only to an empty session_events; trades only fill the gap
 * since the latest trade when that is older than 5 minutes. The DEDUP keys are the safety net.
 */

// ---------------------------------------------------------------------------------------------
// The demo universe (shared with scripts/feed.ts)

export const TRADE_SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD"] as const;
export type TradeSymbol = (typeof TRADE_SYMBOLS)[number];

interface SymbolSpec {
  /** Where the walk starts when there is no trade yet. */
  startPrice: number;
  /** Daily volatility of the log price. */
  dailyVol: number;
  /** Price tick (rounding). */
  tick: number;
  /** Typical trade size (median of a log-normal). */
  typicalAmount: number;
  /** Amount decimals. */
  amountDecimals: number;
}

export const SYMBOL_SPECS: Record<TradeSymbol, SymbolSpec> = {
  "BTC-USD": { startPrice: 65_000, dailyVol: 0.03, tick: 0.01, typicalAmount: 0.04, amountDecimals: 5 },
  "ETH-USD": { startPrice: 3_200, dailyVol: 0.04, tick: 0.01, typicalAmount: 0.6, amountDecimals: 4 },
  "SOL-USD": { startPrice: 150, dailyVol: 0.06, tick: 0.001, typicalAmount: 12, amountDecimals: 3 },
};

export const DEFAULT_PRICES: Record<TradeSymbol, number> = {
  "BTC-USD": SYMBOL_SPECS["BTC-USD"].startPrice,
  "ETH-USD": SYMBOL_SPECS["ETH-USD"].startPrice,
  "SOL-USD": SYMBOL_SPECS["SOL-USD"].startPrice,
};

export interface DemoSession {
  sessionId: string;
  strategy: string;
  symbol: TradeSymbol;
  mode: "live" | "paper";
  /** Hours before now the session started. */
  startedHoursAgo: number;
  /** Hours before now the session stopped (undefined: still running). */
  stoppedHoursAgo?: number;
  /** PnL drift per hour (USD) and noise per event. */
  driftPerHour: number;
  noise: number;
}

export const DEMO_SESSIONS: readonly DemoSession[] = [
  { sessionId: "sess-001", strategy: "mean-reversion", symbol: "BTC-USD", mode: "live", startedHoursAgo: 22.5, driftPerHour: 38, noise: 120 },
  { sessionId: "sess-002", strategy: "momentum-breakout", symbol: "ETH-USD", mode: "live", startedHoursAgo: 18, driftPerHour: -12, noise: 90 },
  { sessionId: "sess-003", strategy: "grid", symbol: "SOL-USD", mode: "paper", startedHoursAgo: 14.25, driftPerHour: 9, noise: 25 },
  { sessionId: "sess-004", strategy: "market-making", symbol: "BTC-USD", mode: "live", startedHoursAgo: 23.5, driftPerHour: 21, noise: 40 },
  { sessionId: "sess-005", strategy: "twap-exec", symbol: "ETH-USD", mode: "live", startedHoursAgo: 6.5, driftPerHour: -4, noise: 15 },
  { sessionId: "sess-006", strategy: "pairs-stat-arb", symbol: "SOL-USD", mode: "paper", startedHoursAgo: 10, driftPerHour: 15, noise: 45 },
  { sessionId: "sess-007", strategy: "vwap-exec", symbol: "BTC-USD", mode: "paper", startedHoursAgo: 20, stoppedHoursAgo: 9, driftPerHour: 6, noise: 20 },
  { sessionId: "sess-008", strategy: "funding-carry", symbol: "ETH-USD", mode: "live", startedHoursAgo: 16, stoppedHoursAgo: 2.5, driftPerHour: -25, noise: 60 },
];

/** Sessions that are running now: the latest event of each session, kept if its status is running. */
export const ACTIVE_SESSIONS_SQL =
  "SELECT * FROM (session_events LATEST ON ts PARTITION BY session_id) WHERE status = 'running'";

/** Each symbol's latest trade: where the random walk continues from (seed and feed). */
export const LATEST_TRADES_SQL = "SELECT symbol, price, cast(ts AS LONG) AS ts_us FROM trades LATEST ON ts PARTITION BY symbol";

const HOUR_US = 3_600_000_000;
const DAY_US = 24 * HOUR_US;
/** Trades are backfilled only when the latest one is older than this. */
const BACKFILL_THRESHOLD_US = 5 * 60 * 1_000_000;
/** Mean time between two trades of one symbol during the backfill (→ ~21,600 per symbol per day). */
const MEAN_TRADE_GAP_US = 4_000_000;
/** Time between two PnL events of a session. */
const SESSION_EVENT_GAP_US = 15 * 60 * 1_000_000;
/** Rows per ILP/HTTP request (each request is one transaction). */
const FLUSH_ROWS = 10_000;

// ---------------------------------------------------------------------------------------------
// Random walk helpers (shared with scripts/feed.ts)

/** A standard normal variate (Box–Muller). */
export function gaussian(): number {
  let u = 0;
  while (u === 0) u = Math.random();
  const v = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function roundTo(value: number, step: number): number {
  const decimals = Math.max(0, Math.round(-Math.log10(step)));
  return Number((Math.round(value / step) * step).toFixed(decimals));
}

/** The next price of a geometric random walk after `dtSeconds` (slight pull back to the start level). */
export function nextPrice(symbol: TradeSymbol, price: number, dtSeconds: number): number {
  const spec = SYMBOL_SPECS[symbol];
  const sigma = spec.dailyVol * Math.sqrt(Math.max(dtSeconds, 0.001) / 86_400);
  // A very weak mean reversion keeps the demo prices in a plausible range over long runs.
  const pull = -0.02 * Math.log(price / spec.startPrice) * (dtSeconds / 86_400);
  const next = price * Math.exp(pull + sigma * gaussian());
  return Math.max(roundTo(next, spec.tick), spec.tick);
}

/** A plausible trade size (log-normal around the symbol's typical amount). */
export function randomAmount(symbol: TradeSymbol): number {
  const spec = SYMBOL_SPECS[symbol];
  const step = 10 ** -spec.amountDecimals;
  return Math.max(roundTo(spec.typicalAmount * Math.exp(0.9 * gaussian()), step), step);
}

/** An exponential variate with the given mean (at least 1). */
function exponential(mean: number): number {
  return Math.max(1, Math.round(-Math.log(1 - Math.random()) * mean));
}

// ---------------------------------------------------------------------------------------------
// QuestDB access

/** The ILP-over-HTTP configuration string for a QuestDB HTTP URL (extra `key=value` options appended). */
export function ilpConfig(httpUrl: string, extra: Record<string, string | number> = {}): string {
  const url = new URL(httpUrl);
  const protocol = url.protocol === "https:" ? "https" : "http";
  const port = url.port || (protocol === "https" ? "443" : "80");
  let config = `${protocol}::addr=${url.hostname}:${port};`;
  if (url.username) config += `username=${decodeURIComponent(url.username)};password=${decodeURIComponent(url.password)};`;
  for (const [key, value] of Object.entries(extra)) config += `${key}=${value};`;
  return config;
}

async function withClient<T>(pgUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 5_000, query_timeout: 30_000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export const TRADES_DDL =
  "CREATE TABLE IF NOT EXISTS trades (ts TIMESTAMP, symbol SYMBOL, side SYMBOL, price DOUBLE, amount DOUBLE) " +
  "TIMESTAMP(ts) PARTITION BY DAY WAL DEDUP UPSERT KEYS(ts, symbol)";
export const SESSION_EVENTS_DDL =
  "CREATE TABLE IF NOT EXISTS session_events (ts TIMESTAMP, session_id SYMBOL, strategy SYMBOL, symbol SYMBOL, " +
  "mode SYMBOL, status SYMBOL, pnl DOUBLE, started_at TIMESTAMP) " +
  "TIMESTAMP(ts) PARTITION BY DAY WAL DEDUP UPSERT KEYS(ts, session_id)";

/** Creates `trades` and `session_events` if they do not exist (WAL, daily partitions, DEDUP). */
export async function createSchema(pgUrl: string): Promise<void> {
  await withClient(pgUrl, async (client) => {
    await client.query(TRADES_DDL);
    await client.query(SESSION_EVENTS_DDL);
  });
}

async function count(client: pg.Client, table: string): Promise<number> {
  const result = await client.query<{ n: string }>(`SELECT count() AS n FROM ${table}`);
  return Number(result.rows[0]?.n ?? 0);
}

interface WalState {
  name: string;
  suspended: boolean;
  writerTxn: number;
  sequencerTxn: number;
  errorMessage: string;
}

async function walState(client: pg.Client, tables: readonly string[]): Promise<Map<string, WalState>> {
  const result = await client.query<{
    name: string;
    suspended: boolean;
    writerTxn: string;
    sequencerTxn: string;
    errorMessage: string | null;
  }>("SELECT name, suspended, writerTxn, sequencerTxn, errorMessage FROM wal_tables()");
  const states = new Map<string, WalState>();
  for (const row of result.rows) {
    if (!tables.includes(row.name)) continue;
    states.set(row.name, {
      name: row.name,
      suspended: row.suspended,
      writerTxn: Number(row.writerTxn),
      sequencerTxn: Number(row.sequencerTxn),
      errorMessage: row.errorMessage ?? "",
    });
  }
  return states;
}

/**
 * Waits until every WAL transaction committed so far to these tables has been applied, i.e. the
 * rows are visible to queries (writerTxn catches up with the sequencerTxn seen at the start).
 */
export async function waitForWalApplied(pgUrl: string, tables: readonly string[], timeoutMs = 60_000): Promise<void> {
  await withClient(pgUrl, async (client) => {
    const target = await walState(client, tables);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await walState(client, tables);
      let done = true;
      for (const table of tables) {
        const state = now.get(table);
        if (!state) throw new Error(`table ${table} is not a WAL table (not in wal_tables())`);
        if (state.suspended) {
          throw new Error(`table ${table} is suspended: ${state.errorMessage || "WAL apply failed"}`);
        }
        if (state.writerTxn < (target.get(table)?.sequencerTxn ?? 0)) done = false;
      }
      if (done) return;
      if (Date.now() > deadline) {
        throw new Error(`rows written to ${tables.join(", ")} not visible after ${timeoutMs} ms (WAL apply lag)`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Seeding

export interface SeedOptions {
  pgUrl: string;
  httpUrl: string;
  log?: Logger;
  /** "Now" for the generated data (tests); default the wall clock. */
  now?: Date;
}

export interface SeedResult {
  /** Rows in trades after seeding. */
  trades: number;
  /** Rows in session_events after seeding. */
  sessionEvents: number;
  /** Rows this call wrote. */
  createdTrades: number;
  createdSessionEvents: number;
}

interface LatestTrade {
  symbol: string;
  price: number;
  tsUs: number;
}

/** Appends one trade to the sender's buffer; the side follows the price move (a coin toss when flat). */
export async function appendTrade(sender: Sender, symbol: TradeSymbol, from: number, to: number, tsUs: number): Promise<void> {
  const side = to > from ? "buy" : to < from ? "sell" : Math.random() < 0.5 ? "buy" : "sell";
  await sender
    .table("trades")
    .symbol("symbol", symbol)
    .symbol("side", side)
    .floatColumn("price", to)
    .floatColumn("amount", randomAmount(symbol))
    .at(tsUs, "us");
}

/** One change of a trading session, as stored in `session_events`. */
export interface SessionEvent {
  sessionId: string;
  strategy: string;
  symbol: string;
  /** "live" or "paper" (the feed passes on what it read back from the table). */
  mode: string;
  status: "running" | "stopped";
  pnl: number;
  startedAtUs: number;
}

/** Appends one session event to the sender's buffer. */
export async function appendSessionEvent(sender: Sender, event: SessionEvent, tsUs: number): Promise<void> {
  await sender
    .table("session_events")
    .symbol("session_id", event.sessionId)
    .symbol("strategy", event.strategy)
    .symbol("symbol", event.symbol)
    .symbol("mode", event.mode)
    .symbol("status", event.status)
    .floatColumn("pnl", event.pnl)
    .timestampColumn("started_at", event.startedAtUs, "us")
    .at(tsUs, "us");
}

async function writeTrades(sender: Sender, nowUs: number, latest: Map<string, LatestTrade>): Promise<number> {
  let written = 0;
  let pending = 0;
  for (const symbol of TRADE_SYMBOLS) {
    const last = latest.get(symbol);
    if (last && nowUs - last.tsUs < BACKFILL_THRESHOLD_US) continue;
    let tsUs = last ? Math.max(last.tsUs, nowUs - DAY_US) : nowUs - DAY_US;
    let price = last && last.price > 0 ? last.price : DEFAULT_PRICES[symbol];
    for (;;) {
      const gapUs = exponential(MEAN_TRADE_GAP_US);
      tsUs += gapUs;
      if (tsUs > nowUs) break;
      const next = nextPrice(symbol, price, gapUs / 1e6);
      await appendTrade(sender, symbol, price, next, tsUs);
      price = next;
      written++;
      if (++pending >= FLUSH_ROWS) {
        await sender.flush();
        pending = 0;
      }
    }
  }
  if (pending > 0) await sender.flush();
  return written;
}

async function writeSessionEvents(sender: Sender, nowUs: number): Promise<number> {
  let written = 0;
  for (const session of DEMO_SESSIONS) {
    const startedAtUs = Math.round(nowUs - session.startedHoursAgo * HOUR_US);
    const endUs =
      session.stoppedHoursAgo !== undefined ? Math.round(nowUs - session.stoppedHoursAgo * HOUR_US) : nowUs - 1_000_000;
    let pnl = 0;
    let tsUs = startedAtUs;
    for (;;) {
      const last = tsUs >= endUs;
      if (last) tsUs = endUs;
      const status = last && session.stoppedHoursAgo !== undefined ? "stopped" : "running";
      await appendSessionEvent(sender, { ...session, status, pnl: roundTo(pnl, 0.01), startedAtUs }, tsUs);
      written++;
      if (last) break;
      // Jittered gaps so the events of different sessions do not line up.
      const gapUs = Math.round(SESSION_EVENT_GAP_US * (0.6 + 0.8 * Math.random()));
      pnl += (session.driftPerHour * gapUs) / HOUR_US + session.noise * gaussian() * Math.sqrt(gapUs / HOUR_US);
      tsUs += gapUs;
    }
  }
  await sender.flush();
  return written;
}

/**
 * Creates the schema and writes the demo data that is missing; resolves once every row is
 * queryable. Safe to run repeatedly (and while the live feed writes).
 */
export async function seedDemoData(options: SeedOptions): Promise<SeedResult> {
  const { pgUrl, httpUrl, log } = options;
  const nowUs = (options.now ?? new Date()).getTime() * 1000;
  await createSchema(pgUrl);

  const { latest, sessionEventsBefore } = await withClient(pgUrl, async (client) => {
    const result = await client.query<{ symbol: string; price: number; ts_us: string }>(
      LATEST_TRADES_SQL,
    );
    const latest = new Map<string, LatestTrade>();
    for (const row of result.rows) latest.set(row.symbol, { symbol: row.symbol, price: row.price, tsUs: Number(row.ts_us) });
    return { latest, sessionEventsBefore: await count(client, "session_events") };
  });

  const sender = await Sender.fromConfig(
    // stdlib_http: fails fast when QuestDB goes away (undici's retry agent keeps retrying a
    // refused connection regardless of retry_timeout).
    ilpConfig(httpUrl, { stdlib_http: "on", auto_flush: "off", request_timeout: 30_000, retry_timeout: 10_000 }),
    {
      log: (level, message) => {
        if (log && (level === "warn" || level === "error")) logEvent(log, level, "seed.ilp_client", { message: String(message) });
      },
    },
  );
  let createdTrades = 0;
  let createdSessionEvents = 0;
  try {
    createdTrades = await writeTrades(sender, nowUs, latest);
    if (sessionEventsBefore === 0) createdSessionEvents = await writeSessionEvents(sender, nowUs);
  } finally {
    await sender.close();
  }

  await waitForWalApplied(pgUrl, ["trades", "session_events"]);
  const counts = await withClient(pgUrl, async (client) => ({
    trades: await count(client, "trades"),
    sessionEvents: await count(client, "session_events"),
  }));
  const result: SeedResult = { ...counts, createdTrades, createdSessionEvents };
  if (log) logEvent(log, "info", "seed.done", { ...result });
  return result;
}

// ---------------------------------------------------------------------------------------------
// CLI

if (isMain(typeof module === "undefined" ? undefined : module)) {
  const startedAt = Date.now();
  const log = createLogger("seed", "warn");
  (async () => {
    const env = parseEnv();
    const result = await seedDemoData({ pgUrl: env.QUESTDB_URL, httpUrl: env.QUESTDB_HTTP_URL, log });
    const active = await withClient(env.QUESTDB_URL, async (client) => (await client.query(ACTIVE_SESSIONS_SQL)).rowCount ?? 0);
    console.log(
      `Seeded ${redactUrlPassword(env.QUESTDB_URL)} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s: ` +
        `trades ${result.trades} (+${result.createdTrades}), session_events ${result.sessionEvents} ` +
        `(+${result.createdSessionEvents}), ${active} active sessions`,
    );
  })().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof InvalidEnvError) console.error(message);
    else console.error(`Seeding failed: ${message} (is QuestDB running? try \`npm run questdb -- start\`)`);
    process.exit(1);
  });
}
