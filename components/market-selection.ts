import { CANDLE_INTERVALS, type CandleInterval, DEFAULT_MARKET_INPUT, SYMBOL_PATTERN } from "@/contract/market";

/**
 * The chart's symbol and interval live in the URL (`/?symbol=ETH-USD&interval=5m`): a link opens
 * on that chart, and sign-in brings the operator back to it. Pure: read on the server
 * (page.tsx), written by the browser (use-market-selection.ts). A symbol QuestDB has no trades for
 * is kept as asked: the chart's panel then says so (the server's 400 names it), not a silent switch.
 */

export interface MarketSelection {
  /** A symbol's form only: whether QuestDB has trades for it is the server's answer (market.symbols). */
  symbol: string;
  interval: CandleInterval;
}

type SearchParams = Record<string, string | string[] | undefined>;

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** The selection a URL asks for; the default for anything missing or malformed. */
export function parseMarketSelection(params: SearchParams): MarketSelection {
  const symbol = first(params.symbol)?.toUpperCase();
  const interval = first(params.interval);
  return {
    symbol: symbol && SYMBOL_PATTERN.test(symbol) ? symbol : DEFAULT_MARKET_INPUT.symbol,
    interval: CANDLE_INTERVALS.find((i) => i === interval) ?? DEFAULT_MARKET_INPUT.interval,
  };
}

/** `url` with the selection in its query, other parameters kept. */
export function withMarketSelection(url: string, selection: MarketSelection): string {
  const next = new URL(url);
  next.searchParams.set("symbol", selection.symbol);
  next.searchParams.set("interval", selection.interval);
  return `${next.pathname}${next.search}${next.hash}`;
}
