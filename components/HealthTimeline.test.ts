import { describe, expect, it } from "vitest";
import { breakerBands } from "./HealthTimeline";

describe("breaker bands", () => {
  it("colour each interval of the window by the breaker's state then", () => {
    const bands = breakerBands({
      from: "2026-11-28T12:00:00.000Z",
      to: "2026-11-28T12:01:00.000Z",
      bucketMs: 15_000,
      breaker: [
        { at: "2026-11-28T12:00:00.000Z", state: "closed" },
        { at: "2026-11-28T12:00:20.000Z", state: "open", cause: "connection refused" },
        { at: "2026-11-28T12:00:44.000Z", state: "closed" },
      ],
      latency: [],
      outages: [],
    });
    const closed = "rgba(46,160,67,0.35)";
    const open = "rgba(248,81,73,0.6)";
    // 12:00:00, :15 closed; :30 open (since :20); :45 and 12:01 closed again (since :44).
    expect(bands.map((b) => b.color)).toEqual([closed, closed, open, closed, closed]);
    expect(bands[0]!.time).toBe(Date.parse("2026-11-28T12:00:00.000Z") / 1000);
  });

  it("has a band at every time a latency line has a point, also off the grid and before the window's first interval", () => {
    const bands = breakerBands({
      from: "2026-11-28T12:00:05.000Z",
      to: "2026-11-28T12:00:40.000Z",
      bucketMs: 15_000,
      breaker: [{ at: "2026-11-28T12:00:05.000Z", state: "closed" }],
      latency: [
        { at: "2026-11-28T12:00:00.000Z", p50Ms: 1, p95Ms: 2, count: 3 },
        { at: "2026-11-28T12:00:22.500Z", p50Ms: 1, p95Ms: 2, count: 3 },
      ],
      outages: [],
    } as unknown as Parameters<typeof breakerBands>[0]);
    const times = bands.map((b) => new Date(b.time * 1000).toISOString().slice(14, 19));
    expect(times).toEqual(["00:00", "00:15", "00:22", "00:30"]);
  });
});
