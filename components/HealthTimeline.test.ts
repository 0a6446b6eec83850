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
});
