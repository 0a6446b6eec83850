import { formatClock, formatDateTime } from "./time";

/**
 * The price chart in words, for whoever cannot see the canvas: its span, open, high, low, close
 * and change — and that it is cached, when it is.
 */

export interface SummarisedCandle {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
}

const price = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const signedPrice = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2, signDisplay: "exceptZero" });
const percent = new Intl.NumberFormat("en-US", {
  style: "percent",
  maximumFractionDigits: 2,
  signDisplay: "exceptZero",
});

export function formatPrice(value: number): string {
  return price.format(value);
}

export function summarizeCandles(
  candles: readonly SummarisedCandle[],
  opts: { timeZone: string; cachedAsOf: string | null },
): string {
  const cached = opts.cachedAsOf ? ` Cached as of ${formatClock(opts.cachedAsOf, opts.timeZone)}.` : "";
  const firstCandle = candles[0];
  const lastCandle = candles.at(-1);
  if (!firstCandle || !lastCandle) return `No trades in this period.${cached}`;
  const high = Math.max(...candles.map((c) => c.high));
  const low = Math.min(...candles.map((c) => c.low));
  const change = lastCandle.close - firstCandle.open;
  const ratio = firstCandle.open !== 0 ? ` (${percent.format(change / firstCandle.open)})` : "";
  return (
    `${candles.length} candles, ${formatDateTime(firstCandle.time, opts.timeZone)} to ` +
    `${formatDateTime(lastCandle.time, opts.timeZone)}: open ${price.format(firstCandle.open)}, ` +
    `high ${price.format(high)}, low ${price.format(low)}, close ${price.format(lastCandle.close)}, ` +
    `change ${signedPrice.format(change)}${ratio}.${cached}`
  );
}
