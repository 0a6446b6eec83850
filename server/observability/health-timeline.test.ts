import { describe, expect, it } from "vitest";
import { HealthTimeline, TIMELINE_WINDOW_MS } from "./health-timeline";

const T0 = Date.parse("2026-11-28T12:00:00.000Z");

function clock() {
  let now = T0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("health timeline", () => {
  it("keeps breaker changes and one outage from open to closed, with its cause", () => {
    const c = clock();
    const t = new HealthTimeline(c.now);
    c.advance(60_000);
    t.record({
      type: "breaker_changed",
      state: "open",
      cause: "connection refused (127.0.0.1:8812)",
      retryInMs: 30_000,
    });
    c.advance(5_000);
    t.record({ type: "breaker_changed", state: "half-open" });
    t.record({ type: "breaker_changed", state: "closed" });
    const snap = t.snapshot();
    expect(snap.breaker.map((b) => b.state)).toEqual(["closed", "open", "half-open", "closed"]);
    expect(snap.outages).toEqual([
      {
        from: "2026-11-28T12:01:00.000Z",
        to: "2026-11-28T12:01:05.000Z",
        cause: "connection refused (127.0.0.1:8812)",
      },
    ]);
  });

  it("gives p50 and p95 of the queries' latency per 15 s interval", () => {
    const c = clock();
    const t = new HealthTimeline(c.now);
    for (let i = 1; i <= 100; i++)
      t.record({ type: "query_succeeded", operation: "sessions.active", seconds: i / 1000 });
    c.advance(15_000);
    t.record({ type: "query_succeeded", operation: "sessions.active", seconds: 0.5 });
    const { latency } = t.snapshot();
    expect(latency).toEqual([
      { at: "2026-11-28T12:00:00.000Z", p50Ms: 50, p95Ms: 95, count: 100 },
      { at: "2026-11-28T12:00:15.000Z", p50Ms: 500, p95Ms: 500, count: 1 },
    ]);
  });

  it("forgets what is older than 15 minutes, but keeps the state the window starts in, and an outage still open", () => {
    const c = clock();
    const t = new HealthTimeline(c.now);
    t.record({ type: "query_succeeded", operation: "sessions.active", seconds: 0.01 });
    t.record({ type: "breaker_changed", state: "open", cause: "connection refused" });
    c.advance(TIMELINE_WINDOW_MS + 60_000);
    const snap = t.snapshot();
    expect(snap.latency).toEqual([]);
    expect(snap.breaker).toEqual([{ at: snap.from, state: "open" }]);
    expect(snap.outages).toEqual([{ from: snap.from, to: null, cause: "connection refused" }]);
  });
});
