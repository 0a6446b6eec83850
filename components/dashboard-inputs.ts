/** The inputs the page asks with; the server prefetch and the browser must use the same ones. */
export const SESSIONS_INPUT = { limit: 100 } as const;
export const SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD"] as const;
export const DEFAULT_MARKET_INPUT = { symbol: "BTC-USD", interval: "1m", limit: 240 } as const;
