import type { Sender } from "@questdb/nodejs-client";
import { logEvent, type Logger } from "../../server/observability/logger";
import { allActiveSessionsQuery } from "../active-sessions";
import { DEFAULT_PRICES, DEMO_SESSIONS } from "../demo-data";
import { exec, inlineNumericParams } from "../http-exec";
import { TRADE_SYMBOLS, type TradeSymbol } from "../../contract/market";
import { gaussian, nextPrice, roundTo } from "../random-walk";
import { LATEST_TRADES_SQL, SESSION_EVENTS_DDL, TRADES_DDL } from "../schema";
import { appendSessionEvent, appendTrade } from "../writes";

/** Running sessions are re-read this often (new sessions, sessions stopped elsewhere). */
const SESSIONS_REFRESH_MS = 30_000;

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

export interface TickRows {
  trades: number;
  sessionEvents: number;
}

/**
 * Where the feed's random walk stands — each symbol's price and latest trade, the running
 * sessions and their PnL — read from QuestDB over /exec and moved on by one tick at a time.
 */
export class LiveFeedWalk {
  private readonly prices = new Map<TradeSymbol, number>(
    TRADE_SYMBOLS.map((symbol) => [symbol, DEFAULT_PRICES[symbol]]),
  );
  private readonly lastTradeUs = new Map<TradeSymbol, number>();
  private lastTickUs = Date.now() * 1000;
  private schemaReady = false;
  private pricesLoaded = false;
  private sessions: RunningSession[] | null = null;
  private sessionsLoadedAt = 0;
  private lastSessionEventUs = 0;

  constructor(
    private readonly httpUrl: string,
    private readonly requestTimeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** Reads what the walk continues from; each part is retried on later ticks until it succeeds. */
  async load(): Promise<void> {
    if (!this.schemaReady) await this.createSchema();
    if (!this.pricesLoaded) await this.loadLatestPrices();
    if (this.sessions === null || Date.now() - this.sessionsLoadedAt > SESSIONS_REFRESH_MS)
      await this.loadRunningSessions();
  }

  /** Appends this tick's rows to the Sender's buffer; returns how many of each. */
  async appendTick(target: Sender, nowUs: number): Promise<TickRows> {
    const windowUs = Math.max(1, nowUs - this.lastTickUs);
    let trades = 0;
    for (const symbol of TRADE_SYMBOLS) trades += await this.appendTrades(target, symbol, nowUs, windowUs);
    const sessionEvents = await this.appendSessionEvents(target, nowUs, windowUs);
    return { trades, sessionEvents };
  }

  /** The next tick's trades fall after this one, whether its rows were written or not. */
  endTick(nowUs: number): void {
    this.lastTickUs = nowUs;
  }

  private async query(sql: string): Promise<Record<string, unknown>[]> {
    return exec(this.httpUrl, sql, this.requestTimeoutMs);
  }

  private async createSchema(): Promise<void> {
    await this.query(TRADES_DDL);
    await this.query(SESSION_EVENTS_DDL);
    this.schemaReady = true;
  }

  private async loadLatestPrices(): Promise<void> {
    for (const row of await this.query(LATEST_TRADES_SQL)) {
      const symbol = row.symbol as TradeSymbol;
      if (!TRADE_SYMBOLS.includes(symbol) || typeof row.price !== "number" || row.price <= 0) continue;
      this.prices.set(symbol, row.price);
      if (typeof row.ts_us === "number") this.lastTradeUs.set(symbol, row.ts_us);
    }
    this.pricesLoaded = true;
    logEvent(this.log, "info", "feed.prices_loaded", { prices: Object.fromEntries(this.prices) });
  }

  private async loadRunningSessions(): Promise<void> {
    const rows = await this.query(
      "SELECT session_id, strategy, symbol, mode, pnl, cast(started_at AS LONG) AS started_at_us, cast(ts AS LONG) AS ts_us " +
        `FROM (${inlineNumericParams(allActiveSessionsQuery())})`,
    );
    const previous = new Map((this.sessions ?? []).map((session) => [session.sessionId, session]));
    this.sessions = rows.map((row) => {
      const sessionId = String(row.session_id);
      const spec = DEMO_SESSIONS.find((s) => s.sessionId === sessionId);
      this.lastSessionEventUs = Math.max(this.lastSessionEventUs, Number(row.ts_us) || 0);
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
    if (this.sessionsLoadedAt === 0) {
      logEvent(this.log, "info", "feed.sessions_loaded", { running: this.sessions.map((s) => s.sessionId) });
    }
    this.sessionsLoadedAt = Date.now();
  }

  /** One to four trades of a symbol, at distinct, increasing timestamps inside the last tick's window ((ts, symbol) is the DEDUP key). */
  private async appendTrades(target: Sender, symbol: TradeSymbol, nowUs: number, windowUs: number): Promise<number> {
    const n = 1 + Math.floor(Math.random() * 4);
    const offsets = Array.from({ length: n }, () => Math.floor(Math.random() * windowUs)).sort((a, b) => a - b);
    let previousUs = this.lastTradeUs.get(symbol) ?? 0;
    let price = this.prices.get(symbol) ?? DEFAULT_PRICES[symbol];
    for (const offset of offsets) {
      const tsUs = Math.max(nowUs - windowUs + offset + 1, previousUs + 1);
      const next = nextPrice(symbol, price, Math.max(tsUs - previousUs, 1000) / 1e6);
      await appendTrade(target, symbol, price, next, tsUs);
      price = next;
      previousUs = tsUs;
    }
    this.prices.set(symbol, price);
    this.lastTradeUs.set(symbol, previousUs);
    return n;
  }

  /** One PnL event per running session, all at one timestamp after the previous ones. */
  private async appendSessionEvents(target: Sender, nowUs: number, windowUs: number): Promise<number> {
    let sessionEvents = 0;
    const eventUs = Math.max(nowUs, this.lastSessionEventUs + 1);
    const hours = windowUs / 3_600_000_000;
    for (const session of this.sessions ?? []) {
      session.pnl = roundTo(
        session.pnl + session.driftPerHour * hours + session.noise * Math.sqrt(hours) * gaussian(),
        0.01,
      );
      await appendSessionEvent(target, { ...session, status: "running" }, eventUs);
      sessionEvents++;
    }
    if (sessionEvents > 0) this.lastSessionEventUs = eventUs;
    return sessionEvents;
  }
}
