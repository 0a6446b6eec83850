import { Sender } from "@questdb/nodejs-client";
import { InvalidEnvError, parseEnv } from "../server/env";
import { withDeadline } from "../server/lib/with-deadline";
import { createLogger, logEvent, type Logger } from "../server/observability/logger";
import {
  ACTIVE_SESSIONS_SQL,
  DEFAULT_PRICES,
  DEMO_SESSIONS,
  LATEST_TRADES_SQL,
  SESSION_EVENTS_DDL,
  TRADES_DDL,
  TRADE_SYMBOLS,
  gaussian,
  ilpConfig,
  nextPrice,
  appendSessionEvent,
  appendTrade,
  roundTo,
  type TradeSymbol,
} from "./seed";
import { isMain } from "../harness/is-main";

/**
 * `npm run feed` (and in-process from `npm run dev`): a live feed into QuestDB. Every tick it
 * writes a few trades per symbol (continuing the random walk from the latest price) and one PnL
 * event per running session, with ILP over HTTP.
 *
 * Built to outlive QuestDB outages: every failure is caught, logged once per outage
 * (feed.write_failed + feed.questdb_down, then feed.questdb_back), the feed keeps ticking and
 * recovers by itself. A tick is skipped while the previous one is still in flight, and the
 * Sender's timeouts are shorter than a tick, so a frozen QuestDB cannot pile up requests.
 */

export interface LiveFeedOptions {
  /** QuestDB's HTTP URL (ILP over HTTP and /exec for the few reads). */
  httpUrl: string;
  /** Time between ticks; default 1000 ms. */
  intervalMs?: number;
  log: Logger;
}

export interface LiveFeed {
  /** Stops ticking, waits for the tick in flight, closes the Sender. Never rejects. */
  stop(): Promise<void>;
}

interface RunningSession {
  sessionId: string;
  strategy: string;
  symbol: string;
  mode: string;
  startedAtUs: number;
  pnl: number;
  driftPerHour: number;
  noise: number;
}

/** While QuestDB stays down, feed.write_failed is repeated at most this often. */
const DOWN_REMINDER_MS = 60_000;
/** Running sessions are re-read this often (new sessions, sessions stopped elsewhere). */
const SESSIONS_REFRESH_MS = 30_000;

/** A non-empty one-line description of any error (undici's AggregateErrors have empty messages). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const parts: string[] = [];
    const err = error as Error & { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (err.message) parts.push(err.message);
    else if (typeof err.code === "string") parts.push(err.code);
    if (Array.isArray(err.errors) && err.errors.length > 0 && !err.message) {
      parts.push(err.errors.map((inner) => describeError(inner)).join("; "));
    }
    if (err.cause !== undefined && err.cause !== error) {
      const cause = describeError(err.cause);
      if (cause && !parts.join(" ").includes(cause)) parts.push(`(cause: ${cause})`);
    }
    const text = parts.join(" ").replace(/\s+/g, " ").trim();
    return text || err.name || "unknown error";
  }
  const text = String(error).trim();
  return text || "unknown error";
}

interface ExecResult {
  columns: { name: string; type: string }[];
  dataset: unknown[][];
}

/** Runs one SQL statement over QuestDB's HTTP /exec endpoint. */
async function exec(httpUrl: string, sql: string, timeoutMs: number): Promise<ExecResult> {
  const response = await fetch(`${httpUrl}/exec?query=${encodeURIComponent(sql)}`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await response.json().catch(() => ({}))) as Partial<ExecResult> & { error?: string };
  if (!response.ok || body.error) {
    throw new Error(`QuestDB /exec failed (HTTP ${response.status}): ${body.error ?? response.statusText}`);
  }
  return { columns: body.columns ?? [], dataset: body.dataset ?? [] };
}

function rowsOf(result: ExecResult): Record<string, unknown>[] {
  return result.dataset.map((row) => {
    const record: Record<string, unknown> = {};
    result.columns.forEach((column, i) => (record[column.name] = row[i]));
    return record;
  });
}

/** Starts the feed; the first tick runs right away. */
export function startLiveFeed(options: LiveFeedOptions): LiveFeed {
  const { log } = options;
  const httpUrl = options.httpUrl.replace(/\/+$/, "");
  const intervalMs = Math.max(50, options.intervalMs ?? 1000);
  // Shorter than a tick: a request to a frozen QuestDB gives up before the next tick is due.
  const requestTimeoutMs = Math.max(100, Math.min(2_000, Math.round(intervalMs * 0.8)));

  const prices = new Map<TradeSymbol, number>(TRADE_SYMBOLS.map((symbol) => [symbol, DEFAULT_PRICES[symbol]]));
  const lastTradeUs = new Map<TradeSymbol, number>();
  let lastTickUs = Date.now() * 1000;
  let schemaReady = false;
  let pricesLoaded = false;
  let sessions: RunningSession[] | null = null;
  let sessionsLoadedAt = 0;
  let lastSessionEventUs = 0;

  let sender: Sender | null = null;
  let stopped = false;
  let inFlight: Promise<void> | null = null;
  let skippedTicks = 0;
  let down: { since: number; failedTicks: number; lastLoggedAt: number } | null = null;
  let totals = { trades: 0, sessionEvents: 0 };

  // A safety net over the client's own timeouts: a tick must end.
  const timedOut = (what: string) => new Error(`${what} did not finish within ${requestTimeoutMs + 1_000} ms`);

  const senderLog = (level: "error" | "warn" | "info" | "debug", message: string | Error) => {
    // The client's own chatter (e.g. "unflushed data lost" on close after a failure) stays at debug.
    logEvent(log, "debug", "feed.ilp_client", { clientLevel: level, message: describeError(message) });
  };

  async function getSender(): Promise<Sender> {
    // fromConfig asks /settings for the protocol version, so it fails while QuestDB is down;
    // it is retried on the next tick.
    // stdlib_http: the default undici transport retries refused connections forever and does not
    // honour retry_timeout when QuestDB is gone (a flush hung for the whole outage); node's http
    // transport fails fast on a refused connection and after request_timeout on a frozen one.
    // retry_timeout=0: no retries inside a tick, the next tick is the retry.
    sender ??= await Sender.fromConfig(
      ilpConfig(httpUrl, {
        stdlib_http: "on",
        auto_flush: "off",
        request_timeout: requestTimeoutMs,
        retry_timeout: 0,
      }),
      { log: senderLog },
    );
    return sender;
  }

  async function dropSender(): Promise<void> {
    const current = sender;
    sender = null;
    if (current) {
      current.reset();
      await current.close().catch(() => {});
    }
  }

  /** Reads what the walk continues from; each part is retried on later ticks until it succeeds. */
  async function loadState(): Promise<void> {
    if (!schemaReady) {
      await exec(httpUrl, TRADES_DDL, requestTimeoutMs);
      await exec(httpUrl, SESSION_EVENTS_DDL, requestTimeoutMs);
      schemaReady = true;
    }
    if (!pricesLoaded) {
      const result = await exec(httpUrl, LATEST_TRADES_SQL, requestTimeoutMs);
      for (const row of rowsOf(result)) {
        const symbol = row.symbol as TradeSymbol;
        if (!TRADE_SYMBOLS.includes(symbol) || typeof row.price !== "number" || row.price <= 0) continue;
        prices.set(symbol, row.price);
        if (typeof row.ts_us === "number") lastTradeUs.set(symbol, row.ts_us);
      }
      pricesLoaded = true;
      logEvent(log, "info", "feed.prices_loaded", { prices: Object.fromEntries(prices) });
    }
    if (sessions === null || Date.now() - sessionsLoadedAt > SESSIONS_REFRESH_MS) {
      const result = await exec(
        httpUrl,
        `SELECT session_id, strategy, symbol, mode, pnl, cast(started_at AS LONG) AS started_at_us, cast(ts AS LONG) AS ts_us FROM (${ACTIVE_SESSIONS_SQL})`,
        requestTimeoutMs,
      );
      const previous = new Map((sessions ?? []).map((session) => [session.sessionId, session]));
      sessions = rowsOf(result).map((row) => {
        const sessionId = String(row.session_id);
        const spec = DEMO_SESSIONS.find((s) => s.sessionId === sessionId);
        lastSessionEventUs = Math.max(lastSessionEventUs, Number(row.ts_us) || 0);
        return {
          sessionId,
          strategy: String(row.strategy),
          symbol: String(row.symbol),
          mode: String(row.mode),
          startedAtUs: Number(row.started_at_us),
          // Our own latest value wins over a read that may not see our last write yet.
          pnl: previous.get(sessionId)?.pnl ?? (typeof row.pnl === "number" ? row.pnl : 0),
          driftPerHour: spec?.driftPerHour ?? 10,
          noise: spec?.noise ?? 30,
        };
      });
      if (sessionsLoadedAt === 0) {
        logEvent(log, "info", "feed.sessions_loaded", { running: sessions.map((s) => s.sessionId) });
      }
      sessionsLoadedAt = Date.now();
    }
  }

  /** Appends this tick's rows to the Sender's buffer; returns how many of each. */
  async function buildRows(target: Sender, nowUs: number): Promise<{ trades: number; sessionEvents: number }> {
    const windowUs = Math.max(1, nowUs - lastTickUs);
    let trades = 0;
    for (const symbol of TRADE_SYMBOLS) {
      const n = 1 + Math.floor(Math.random() * 4);
      // Distinct, increasing timestamps inside the last tick's window ((ts, symbol) is the DEDUP key).
      const offsets = Array.from({ length: n }, () => Math.floor(Math.random() * windowUs)).sort((a, b) => a - b);
      let previousUs = lastTradeUs.get(symbol) ?? 0;
      let price = prices.get(symbol) ?? DEFAULT_PRICES[symbol];
      for (const offset of offsets) {
        const tsUs = Math.max(nowUs - windowUs + offset + 1, previousUs + 1);
        const next = nextPrice(symbol, price, Math.max(tsUs - previousUs, 1000) / 1e6);
        await appendTrade(target, symbol, price, next, tsUs);
        price = next;
        previousUs = tsUs;
        trades++;
      }
      prices.set(symbol, price);
      lastTradeUs.set(symbol, previousUs);
    }
    let sessionEvents = 0;
    const eventUs = Math.max(nowUs, lastSessionEventUs + 1);
    const hours = windowUs / 3_600_000_000;
    for (const session of sessions ?? []) {
      session.pnl = roundTo(session.pnl + session.driftPerHour * hours + session.noise * Math.sqrt(hours) * gaussian(), 0.01);
      await appendSessionEvent(target, { ...session, status: "running" }, eventUs);
      sessionEvents++;
    }
    if (sessionEvents > 0) lastSessionEventUs = eventUs;
    return { trades, sessionEvents };
  }

  async function runTick(): Promise<void> {
    const nowUs = Date.now() * 1000;
    try {
      try {
        await loadState();
      } catch (error) {
        // Without QuestDB's state the walk continues from what we have (defaults at worst);
        // the write below tells whether QuestDB is really down.
        logEvent(log, "debug", "feed.load_failed", { error: describeError(error) });
      }
      const target = await withDeadline(getSender(), requestTimeoutMs + 1_000, () => timedOut("creating the ILP sender"));
      const counts = await buildRows(target, nowUs);
      await withDeadline(target.flush(), requestTimeoutMs + 1_000, () => timedOut("ILP flush"));
      totals = { trades: totals.trades + counts.trades, sessionEvents: totals.sessionEvents + counts.sessionEvents };
      if (down) {
        logEvent(log, "info", "feed.questdb_back", {
          downMs: Date.now() - down.since,
          failedTicks: down.failedTicks,
          skippedTicks,
        });
        down = null;
        skippedTicks = 0;
      }
    } catch (error) {
      await dropSender();
      const now = Date.now();
      if (!down) {
        down = { since: now, failedTicks: 1, lastLoggedAt: now };
        logEvent(log, "warn", "feed.write_failed", { error: describeError(error), willRetry: true });
        logEvent(log, "warn", "feed.questdb_down", { httpUrl, intervalMs });
      } else {
        down.failedTicks++;
        if (now - down.lastLoggedAt >= DOWN_REMINDER_MS) {
          down.lastLoggedAt = now;
          logEvent(log, "warn", "feed.write_failed", {
            error: describeError(error),
            downMs: now - down.since,
            failedTicks: down.failedTicks,
            willRetry: true,
          });
        }
      }
    } finally {
      lastTickUs = nowUs;
    }
  }

  function tick(): void {
    if (stopped) return;
    if (inFlight) {
      skippedTicks++;
      logEvent(log, "debug", "feed.tick_skipped", { reason: "previous tick still in flight" });
      return;
    }
    inFlight = runTick()
      .catch((error: unknown) => {
        // runTick catches everything; this is the belt to its braces.
        logEvent(log, "error", "feed.tick_failed", { error: describeError(error) });
      })
      .finally(() => {
        inFlight = null;
      });
  }

  logEvent(log, "info", "feed.started", { httpUrl, intervalMs, requestTimeoutMs });
  const timer = setInterval(tick, intervalMs);
  tick();

  let stopping: Promise<void> | null = null;
  return {
    stop(): Promise<void> {
      stopping ??= (async () => {
        stopped = true;
        clearInterval(timer);
        await inFlight?.catch(() => {});
        await dropSender();
        logEvent(log, "info", "feed.stopped", { ...totals });
      })().catch(() => {});
      return stopping;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CLI

if (isMain(typeof module === "undefined" ? undefined : module)) {
  const log = createLogger("feed");
  let env: ReturnType<typeof parseEnv>;
  try {
    env = parseEnv();
  } catch (error) {
    console.error(error instanceof InvalidEnvError ? error.message : describeError(error));
    process.exit(1);
  }
  process.on("unhandledRejection", (reason) => {
    logEvent(log, "error", "feed.unhandled_rejection", { error: describeError(reason) });
  });
  const feed = startLiveFeed({ httpUrl: env.QUESTDB_HTTP_URL, log });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void feed.stop().then(() => process.exit(0));
    });
  }
}
