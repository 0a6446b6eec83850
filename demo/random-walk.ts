import { SYMBOL_SPECS } from "./demo-data";
import type { TradeSymbol } from "../contract/market";

/** How demo prices, trade sizes and gaps move: the random walk the seed and the feed share. */

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
export function exponential(mean: number): number {
  return Math.max(1, Math.round(-Math.log(1 - Math.random()) * mean));
}
