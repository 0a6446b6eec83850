import type { TradeSymbol } from "../contract/market";

/** The demo universe: how each symbol's price moves, and the eight trading sessions. */

export interface SymbolSpec {
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
  {
    sessionId: "sess-001",
    strategy: "mean-reversion",
    symbol: "BTC-USD",
    mode: "live",
    startedHoursAgo: 22.5,
    driftPerHour: 38,
    noise: 120,
  },
  {
    sessionId: "sess-002",
    strategy: "momentum-breakout",
    symbol: "ETH-USD",
    mode: "live",
    startedHoursAgo: 18,
    driftPerHour: -12,
    noise: 90,
  },
  {
    sessionId: "sess-003",
    strategy: "grid",
    symbol: "SOL-USD",
    mode: "paper",
    startedHoursAgo: 14.25,
    driftPerHour: 9,
    noise: 25,
  },
  {
    sessionId: "sess-004",
    strategy: "market-making",
    symbol: "BTC-USD",
    mode: "live",
    startedHoursAgo: 23.5,
    driftPerHour: 21,
    noise: 40,
  },
  {
    sessionId: "sess-005",
    strategy: "twap-exec",
    symbol: "ETH-USD",
    mode: "live",
    startedHoursAgo: 6.5,
    driftPerHour: -4,
    noise: 15,
  },
  {
    sessionId: "sess-006",
    strategy: "pairs-stat-arb",
    symbol: "SOL-USD",
    mode: "paper",
    startedHoursAgo: 10,
    driftPerHour: 15,
    noise: 45,
  },
  {
    sessionId: "sess-007",
    strategy: "vwap-exec",
    symbol: "BTC-USD",
    mode: "paper",
    startedHoursAgo: 20,
    stoppedHoursAgo: 9,
    driftPerHour: 6,
    noise: 20,
  },
  {
    sessionId: "sess-008",
    strategy: "funding-carry",
    symbol: "ETH-USD",
    mode: "live",
    startedHoursAgo: 16,
    stoppedHoursAgo: 2.5,
    driftPerHour: -25,
    noise: 60,
  },
];
