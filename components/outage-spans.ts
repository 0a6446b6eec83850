import type { UTCTimestamp } from "lightweight-charts";

/**
 * Outage markers on the price chart: the candles that fall in a span when QuestDB did not answer
 * (and the page showed cached data) are shaded, so a gap or a jump in price is read as the outage
 * it was, not as the market.
 */

export interface OutageSpan {
  from: string;
  /** null: still going on. */
  to: string | null;
}

export interface ShadeBar {
  time: UTCTimestamp;
  value?: number;
  color?: string;
}

export const OUTAGE_SHADE = "rgba(210, 153, 34, 0.28)";

/**
 * One bar per candle time: a full-height shade inside an outage, whitespace outside it. A candle
 * covers [time, time + intervalMs), so a candle the outage starts inside is shaded too.
 */
export function outageShading(
  candleTimes: readonly number[],
  intervalMs: number,
  outages: readonly OutageSpan[],
  now: number,
): ShadeBar[] {
  const spans = outages.map((o) => ({ from: Date.parse(o.from), to: o.to ? Date.parse(o.to) : now }));
  return candleTimes.map((ms) => {
    const time = Math.floor(ms / 1000) as UTCTimestamp;
    const inOutage = spans.some((span) => ms < span.to && ms + intervalMs > span.from);
    return inOutage ? { time, value: 1, color: OUTAGE_SHADE } : { time };
  });
}
