import { describe, expect, it } from "vitest";
import { summarizeCandles } from "./candles-summary";

const CANDLES = [
  { time: "2026-11-28T21:00:00Z", open: 100, high: 104, low: 99, close: 103 },
  { time: "2026-11-28T21:01:00Z", open: 103, high: 110.456, low: 98.5, close: 101 },
  { time: "2026-11-28T21:02:00Z", open: 101, high: 102, low: 97, close: 110 },
];

describe("summarizeCandles", () => {
  it("span, open, high, low, close and change, in the page's zone", () => {
    expect(summarizeCandles(CANDLES, { timeZone: "UTC", cachedAsOf: null })).toBe(
      "3 candles, 28 Nov 21:00 UTC to 28 Nov 21:02 UTC: open 100, high 110.46, low 97, close 110, change +10 (+10%).",
    );
  });

  it("says the data is cached, and as of when", () => {
    const text = summarizeCandles(CANDLES, { timeZone: "UTC", cachedAsOf: "2026-11-28T21:02:41Z" });
    expect(text).toMatch(/ Cached as of 21:02:41 UTC\.$/);
  });

  it("a fall is signed, and no candles says so", () => {
    const falling = [CANDLES[0]!, { ...CANDLES[2]!, close: 95 }];
    expect(summarizeCandles(falling, { timeZone: "UTC", cachedAsOf: null })).toContain("change -5 (-5%)");
    expect(summarizeCandles([], { timeZone: "UTC", cachedAsOf: null })).toBe("No trades in this period.");
  });
});
