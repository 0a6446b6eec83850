/**
 * The demo market as the dashboard and its tools see it: the symbols that trade, the candle
 * intervals, and how many rows an answer holds. Client-safe: no node, database or server imports,
 * so the browser bundle, the routers and the scripts share these one definitions.
 */

/** The demo feed's symbols. What the page offers is what QuestDB has trades for (`market.symbols`). */
export const TRADE_SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD"] as const;
export type TradeSymbol = (typeof TRADE_SYMBOLS)[number];

/** The form of a symbol a request may name (BTC-USD); whether QuestDB has trades for it is the server's check. */
export const SYMBOL_PATTERN = /^[A-Z0-9]{1,8}-[A-Z0-9]{1,8}$/;

export const CANDLE_INTERVALS = ["1m", "5m", "1h"] as const;
export type CandleInterval = (typeof CANDLE_INTERVALS)[number];

/** Rows per answer: what a request without a limit gets, and the most a request may ask for. */
export const SESSIONS_LIMIT = { default: 100, max: 500 } as const;
export const CANDLES_LIMIT = { default: 240, max: 1000 } as const;

/** The inputs the page asks with; the server prefetch and the browser must use the same ones. */
export const DEFAULT_SESSIONS_INPUT = { limit: SESSIONS_LIMIT.default } as const;
export const DEFAULT_MARKET_INPUT = {
  symbol: "BTC-USD",
  interval: "1m",
  limit: CANDLES_LIMIT.default,
} as const satisfies { symbol: TradeSymbol; interval: CandleInterval; limit: number };
