import { Sender } from "@questdb/nodejs-client";
import { logEvent, type Logger } from "../server/observability/logger";
import { DEFAULT_PRICES, DEMO_SESSIONS } from "./demo-data";
import { TRADE_SYMBOLS } from "../contract/market";
import { countRows, withClient } from "./pg-client";
import { exponential, gaussian, nextPrice, roundTo } from "./random-walk";
import { LATEST_TRADES_SQL, TABLES, createSchema } from "./schema";
import { waitForWalApplied } from "./wal";
import { appendSessionEvent, appendTrade, ilpConfig } from "./writes";

/**
 * The demo data set — 24 h of trades for three symbols and eight trading sessions.
 *
 * Tables are created over PG wire, rows are written with ILP over HTTP, and seeding returns only
 * once the rows are visible to queries. Idempotent: sessions are added only to an empty
 * session_events; trades only fill the gap since the latest trade when that is older than
 * 5 minutes. The DEDUP keys are the safety net.
 */

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
  price: number;
  tsUs: number;
}

/** What is there already: each symbol's latest trade, and whether any session event exists. */
async function readExistingData(pgUrl: string): Promise<{ latest: Map<string, LatestTrade>; sessionEvents: number }> {
  return withClient(pgUrl, async (client) => {
    const result = await client.query<{ symbol: string; price: number; ts_us: string }>(LATEST_TRADES_SQL);
    const latest = new Map<string, LatestTrade>();
    for (const row of result.rows) latest.set(row.symbol, { price: row.price, tsUs: Number(row.ts_us) });
    return { latest, sessionEvents: await countRows(client, TABLES.sessionEvents) };
  });
}

function openSender(httpUrl: string, log: Logger | undefined): Promise<Sender> {
  return Sender.fromConfig(
    // stdlib_http: fails fast when QuestDB goes away (undici's retry agent keeps retrying a
    // refused connection regardless of retry_timeout).
    ilpConfig(httpUrl, { stdlib_http: "on", auto_flush: "off", request_timeout: 30_000, retry_timeout: 10_000 }),
    {
      log: (level, message) => {
        if (log && (level === "warn" || level === "error"))
          logEvent(log, level, "seed.ilp_client", { message: String(message) });
      },
    },
  );
}

/** Backfills each symbol's trades from its latest one (or 24 h ago) up to now. */
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

/** Every demo session's history: a PnL event about every 15 minutes from its start to its stop (or now). */
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
  const existing = await readExistingData(pgUrl);

  const sender = await openSender(httpUrl, log);
  let createdTrades = 0;
  let createdSessionEvents = 0;
  try {
    createdTrades = await writeTrades(sender, nowUs, existing.latest);
    if (existing.sessionEvents === 0) createdSessionEvents = await writeSessionEvents(sender, nowUs);
  } finally {
    await sender.close();
  }

  await waitForWalApplied(pgUrl, [TABLES.trades, TABLES.sessionEvents]);
  const counts = await withClient(pgUrl, async (client) => ({
    trades: await countRows(client, TABLES.trades),
    sessionEvents: await countRows(client, TABLES.sessionEvents),
  }));
  const result: SeedResult = { ...counts, createdTrades, createdSessionEvents };
  if (log) logEvent(log, "info", "seed.done", { ...result });
  return result;
}
