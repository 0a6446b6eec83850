import { describe, expect, it, vi } from "vitest";
import { useFakeClock } from "@/server/questdb/testing/fake-clock";
import { type ChangeReason, createChangeDetector } from "./change-detector";

useFakeClock();

/** A QuestDB whose tables' versions the test moves, or that fails; counts its checks. */
function fakeTables(initial: Record<string, number>) {
  const versions = new Map(Object.entries(initial).map(([t, v]) => [t, String(v)]));
  const state = { failing: false, checks: 0, asked: [] as string[][] };
  return {
    state,
    bump: (table: string) => versions.set(table, String(Number(versions.get(table) ?? 0) + 1)),
    check: async (tables: readonly string[]) => {
      state.checks += 1;
      state.asked.push([...tables]);
      return state.failing ? null : new Map([...versions].filter(([t]) => tables.includes(t)));
    },
  };
}

function recorder() {
  const told: ChangeReason[] = [];
  return { told, onChange: (reason: ChangeReason) => told.push(reason) };
}

describe("change detector", () => {
  it("one check per interval for all tables; a watcher is told only when a table it reads moved", async () => {
    const db = fakeTables({ trades: 1, session_events: 1 });
    const detector = createChangeDetector({ intervalMs: 100, check: db.check });
    const sessions = recorder();
    const candles = recorder();
    detector.watch(["session_events"], sessions.onChange);
    detector.watch(["trades"], candles.onChange);
    await vi.advanceTimersByTimeAsync(100);
    // First sight of a table counts as a move: a write between a topic's first fetch and now is not lost.
    expect([sessions.told, candles.told]).toEqual([["changed"], ["changed"]]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(db.state.checks).toBe(11);
    expect(db.state.asked.at(-1)?.sort()).toEqual(["session_events", "trades"]);
    expect([sessions.told.length, candles.told.length]).toEqual([1, 1]);
    db.bump("session_events");
    await vi.advanceTimersByTimeAsync(100);
    expect([sessions.told, candles.told]).toEqual([["changed", "changed"], ["changed"]]);
    detector.stop();
  });

  it("no watchers, no checks; a watcher that leaves is told nothing more", async () => {
    const db = fakeTables({ trades: 1 });
    const detector = createChangeDetector({ intervalMs: 100, check: db.check });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(db.state.checks).toBe(0);
    const watcher = recorder();
    const unwatch = detector.watch(["trades"], watcher.onChange);
    await vi.advanceTimersByTimeAsync(100);
    unwatch();
    db.bump("trades");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(watcher.told).toEqual(["changed"]);
    expect(db.state.checks).toBe(1);
    detector.stop();
  });

  it("a failing check tells every watcher once, and once more when it recovers; meanwhile it vouches for nothing", async () => {
    const db = fakeTables({ trades: 1 });
    const detector = createChangeDetector({ intervalMs: 100, check: db.check });
    const watcher = recorder();
    detector.watch(["trades"], watcher.onChange);
    await vi.advanceTimersByTimeAsync(100);
    expect(detector.vouches(["trades"], 1_000)).toBe(true);
    expect(detector.vouches(["trades", "elsewhere"], 1_000)).toBe(false);
    db.state.failing = true;
    await vi.advanceTimersByTimeAsync(500);
    expect(watcher.told).toEqual(["changed", "failing"]);
    expect(detector.vouches(["trades"], 1_000)).toBe(false);
    db.state.failing = false;
    await vi.advanceTimersByTimeAsync(100);
    expect(watcher.told).toEqual(["changed", "failing", "recovered"]);
    expect(detector.vouches(["trades"], 1_000)).toBe(true);
    // A check that has not answered for longer than asked is no voucher either.
    expect(detector.vouches(["trades"], 0)).toBe(true);
    detector.stop();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(detector.vouches(["trades"], 1_000)).toBe(false);
  });

  it("a slow check is not stacked: the next interval is skipped while one is under way", async () => {
    let calls = 0;
    const detector = createChangeDetector({
      intervalMs: 100,
      check: async () => {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 450));
        return new Map([["trades", "1"]]);
      },
    });
    detector.watch(["trades"], () => undefined);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBeLessThanOrEqual(2);
    detector.stop();
  });
});
