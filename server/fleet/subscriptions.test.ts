import { EventEmitter } from "node:events";
import type Redis from "ioredis";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSubscriptions } from "./subscriptions";

/** A subscriber connection whose SUBSCRIBE answers only when the test says so. */
function fakeSubscriber() {
  const emitter = new EventEmitter() as EventEmitter & {
    status: string;
    subscribe: (...channels: string[]) => Promise<number>;
    unsubscribe: () => Promise<number>;
  };
  let confirm: () => void = () => undefined;
  emitter.status = "ready";
  emitter.subscribe = () => new Promise<number>((resolve) => (confirm = () => resolve(1)));
  emitter.unsubscribe = async () => 0;
  return { subscriber: emitter as unknown as Redis, confirm: () => confirm() };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("fleet subscriptions", () => {
  it("a channel just asked for counts as live for a moment (a new live topic does not flap health); unconfirmed after that, it does not", async () => {
    const { subscriber, confirm } = fakeSubscriber();
    const subscriptions = createSubscriptions(subscriber, () => undefined);
    subscriptions.add("live:changes:t", () => undefined);
    expect(subscriptions.live()).toBe(true);
    await vi.advanceTimersByTimeAsync(2_500);
    expect(subscriptions.live()).toBe(false);
    confirm();
    await vi.advanceTimersByTimeAsync(0);
    expect(subscriptions.live()).toBe(true);
  });

  it("after the connection closes, nothing is live until the channels are confirmed again", async () => {
    const { subscriber, confirm } = fakeSubscriber();
    const subscriptions = createSubscriptions(subscriber, () => undefined);
    subscriptions.add("c", () => undefined);
    confirm();
    await vi.advanceTimersByTimeAsync(0);
    (subscriber as unknown as EventEmitter).emit("close");
    (subscriber as unknown as { status: string }).status = "reconnecting";
    await vi.advanceTimersByTimeAsync(2_500);
    expect(subscriptions.live()).toBe(false);
  });
});
