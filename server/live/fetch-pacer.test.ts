import { describe, expect, it, vi } from "vitest";
import { useFakeClock } from "@/server/questdb/testing/fake-clock";
import { FetchPacer } from "./fetch-pacer";

useFakeClock();

function counted(runMs = 0) {
  const runs: number[] = [];
  return {
    runs,
    run: async () => {
      runs.push(Date.now());
      if (runMs) await new Promise((resolve) => setTimeout(resolve, runMs));
    },
  };
}

describe("fetch pacer", () => {
  it("runs at once when asked, then at most once per minimum interval however often it is asked", async () => {
    const source = counted();
    const pacer = new FetchPacer(source.run, 100);
    const start = Date.now();
    pacer.request();
    expect(source.runs).toHaveLength(1);
    for (let i = 0; i < 50; i++) {
      pacer.request();
      await vi.advanceTimersByTimeAsync(10);
    }
    // 500 ms of asking every 10 ms: one run per 100 ms, not fifty.
    expect(source.runs.length).toBeGreaterThanOrEqual(5);
    expect(source.runs.length).toBeLessThanOrEqual(6);
    const gaps = source.runs.slice(1).map((at, i) => at - source.runs[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100);
    expect(source.runs[0]).toBe(start);
    pacer.stop();
  });

  it("asked while a run is under way: exactly one more run after it", async () => {
    const source = counted(300);
    const pacer = new FetchPacer(source.run, 0);
    pacer.request();
    pacer.request();
    pacer.request();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(source.runs).toHaveLength(2);
    pacer.stop();
  });

  it("stopped: a waiting run never happens", async () => {
    const source = counted();
    const pacer = new FetchPacer(source.run, 100);
    pacer.request();
    pacer.request();
    pacer.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(source.runs).toHaveLength(1);
  });
});
