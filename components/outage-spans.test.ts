import { describe, expect, it } from "vitest";
import { OUTAGE_SHADE, outageShading } from "./outage-spans";

const MIN = 60_000;
const T0 = Date.parse("2026-11-28T21:00:00Z");

describe("outageShading", () => {
  it("shades every candle an outage touches, one bar per candle time", () => {
    const times = [0, 1, 2, 3, 4].map((i) => T0 + i * MIN);
    const outages = [{ from: new Date(T0 + 1.5 * MIN).toISOString(), to: new Date(T0 + 3 * MIN).toISOString() }];
    const bars = outageShading(times, MIN, outages, T0 + 10 * MIN);
    expect(bars.map((b) => b.time)).toEqual(times.map((t) => t / 1000));
    expect(bars.map((b) => b.value ?? 0)).toEqual([0, 1, 1, 0, 0]);
    expect(bars[1]?.color).toBe(OUTAGE_SHADE);
  });

  it("an outage still going on runs to now", () => {
    const times = [0, 1, 2].map((i) => T0 + i * MIN);
    const bars = outageShading(times, MIN, [{ from: new Date(T0 + MIN).toISOString(), to: null }], T0 + 2.5 * MIN);
    expect(bars.map((b) => b.value ?? 0)).toEqual([0, 1, 1]);
  });
});
