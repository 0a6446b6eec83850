import { afterEach, beforeEach, expect, vi } from "vitest";

/** Every test of the calling file runs on Vitest's fake clock. */
export function useFakeClock(): void {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

/** A promise's outcome instead of a throw, so a test can look at a failure like at a value. */
export async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Asserts that `promise` is still pending `ms` from now, less one, and has settled at `ms`. */
export async function expectSettledAt(promise: Promise<unknown>, ms: number): Promise<void> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await vi.advanceTimersByTimeAsync(ms - 1);
  expect(settled, `still pending at ${ms - 1} ms`).toBe(false);
  await vi.advanceTimersByTimeAsync(1);
  expect(settled, `settled at ${ms} ms`).toBe(true);
}
