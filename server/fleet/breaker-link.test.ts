import { describe, expect, it, vi } from "vitest";
import type { QuestdbEvent } from "@/server/questdb/events";
import { createQuestdbPolicy } from "@/server/questdb/policy";
import { useFakeClock } from "@/server/questdb/testing/fake-clock";
import { linkBreaker } from "./breaker-link";
import type { BreakerAnnouncement, SharedBreaker } from "./shared-breaker";

/**
 * The fleet link with a fake shared breaker and this instance's real policy, on a fake clock: a
 * peer's "open" is a hint this instance checks through its own link before failing fast.
 */

const RECOVERY_MS = 30_000;

/** A shared breaker whose announcements the test makes; `stored` is what a late joiner reads. */
function fakeShared(stored?: BreakerAnnouncement) {
  const listeners = new Set<(announcement: BreakerAnnouncement) => void>();
  const announced: string[] = [];
  const shared: SharedBreaker = {
    announce: async (state) => void announced.push(state),
    onAnnouncement(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    claimProbe: async () => true,
    current: async () => stored,
  };
  const hear = (told: Partial<BreakerAnnouncement> = {}) => {
    const announcement: BreakerAnnouncement = { state: "open", from: "a", at: Date.now(), cause: "refused", ...told };
    for (const listener of listeners) listener(announcement);
  };
  return { shared, hear, announced };
}

/** This instance: its policy, the link, and its own link to QuestDB (`healthy`, answered after `checkMs`). */
function instance(opts: { healthy: boolean; checkMs?: number; stored?: BreakerAnnouncement }) {
  const own = { healthy: opts.healthy, checks: 0 };
  const events: QuestdbEvent[] = [];
  const policy = createQuestdbPolicy({
    retryDelaysMs: [],
    breakerThreshold: 5,
    breakerRecoveryMs: RECOVERY_MS,
    emit: (event) => {
      events.push(event);
      link.onEvent(event);
    },
  });
  const fake = fakeShared(opts.stored);
  const checkOwnLink = async () => {
    own.checks += 1;
    await new Promise((resolve) => setTimeout(resolve, opts.checkMs ?? 5));
    return own.healthy;
  };
  const link = linkBreaker(fake.shared, policy, { recoveryMs: RECOVERY_MS, checkOwnLink });
  return { policy, link, own, events, ...fake };
}

useFakeClock();

describe("a peer's 'open' is a hint, not an order (issue 19, item 3)", () => {
  it("this instance's own link answers: it does not fail fast", async () => {
    const b = instance({ healthy: true });
    b.hear();
    await vi.advanceTimersByTimeAsync(100);
    expect(b.own.checks).toBe(1);
    expect(b.policy.breakerState()).toBe("closed");
    b.link.stop();
  });

  it("a peer that keeps failing alone, announcing 'open' after every failed probe, never isolates a healthy instance", async () => {
    const b = instance({ healthy: true });
    const states = new Set<string>();
    for (let i = 0; i < 50; i++) {
      b.hear({ at: Date.now() });
      states.add(b.policy.breakerState());
      await vi.advanceTimersByTimeAsync(500);
      states.add(b.policy.breakerState());
    }
    expect([...states]).toEqual(["closed"]);
    expect(b.events.filter((e) => e.type === "breaker_changed")).toEqual([]);
    b.link.stop();
  });

  it("QuestDB down for everyone: its own check fails too, then it fails fast with the peer's cause, within the check", async () => {
    const b = instance({ healthy: false, checkMs: 20 });
    b.hear({ cause: "connection refused (10.0.0.9:8812)" });
    expect(b.policy.breakerState()).toBe("closed"); // checking first
    await vi.advanceTimersByTimeAsync(20);
    expect(b.policy.breakerState()).toBe("open");
    expect(b.events).toContainEqual({
      type: "breaker_changed",
      state: "open",
      cause: "connection refused (10.0.0.9:8812)",
      fromFleet: true,
    });
    b.link.stop();
  });

  it("held by the fleet, its own successful health check ends the hold at once", async () => {
    const b = instance({ healthy: false });
    b.hear();
    await vi.advanceTimersByTimeAsync(10);
    expect(b.policy.breakerState()).toBe("open");
    b.own.healthy = true;
    b.policy.releaseBreaker(); // what the early release does on `health_checked`
    expect(b.policy.breakerState()).toBe("closed");
    // The peer announces again (its next probe failed): checked again, and not followed.
    b.hear();
    await vi.advanceTimersByTimeAsync(10);
    expect(b.policy.breakerState()).toBe("closed");
    b.link.stop();
  });

  it("an announcement expires: the hold lasts its ttl at most, whatever the hearer's recovery time", async () => {
    const b = instance({ healthy: false });
    b.hear({ ttlMs: 4_000 });
    await vi.advanceTimersByTimeAsync(10);
    expect(b.policy.breakerState()).toBe("open");
    await vi.advanceTimersByTimeAsync(4_000);
    expect(b.policy.breakerState()).toBe("closed");
    b.link.stop();
  });

  it("the peer says 'closed' while this instance is still checking: nothing is followed", async () => {
    const b = instance({ healthy: false, checkMs: 50 });
    b.hear();
    b.hear({ state: "closed" });
    await vi.advanceTimersByTimeAsync(100);
    expect(b.policy.breakerState()).toBe("closed");
    b.link.stop();
  });

  it("a late joiner checks its own link before following the stored 'open'", async () => {
    const stored: BreakerAnnouncement = { state: "open", from: "a", at: Date.now(), cause: "refused" };
    const healthy = instance({ healthy: true, stored });
    const cutOff = instance({ healthy: false, stored });
    await vi.advanceTimersByTimeAsync(100);
    expect(healthy.own.checks).toBe(1);
    expect(healthy.policy.breakerState()).toBe("closed");
    expect(cutOff.policy.breakerState()).toBe("open");
    healthy.link.stop();
    cutOff.link.stop();
  });

  it("this instance's own breaker changes are still announced, with their expiry", async () => {
    const b = instance({ healthy: true });
    b.link.onEvent({ type: "breaker_changed", state: "open", cause: "refused", retryInMs: RECOVERY_MS });
    b.link.onEvent({ type: "breaker_changed", state: "open", cause: "refused", fromFleet: true });
    b.link.onEvent({ type: "breaker_changed", state: "closed" });
    expect(b.announced).toEqual(["open", "closed"]);
    b.link.stop();
  });
});
