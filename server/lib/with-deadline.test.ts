import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DeadlineExceededError } from "@/server/questdb/errors";
import { withDeadline } from "./with-deadline";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const outcome = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
const deadlineError = () => new DeadlineExceededError(3_000);

describe("withDeadline", () => {
  it("answers the caller at the deadline while the work goes on", async () => {
    let finish!: (v: string) => void;
    const work = new Promise<string>((resolve) => (finish = resolve));
    const raced = outcome(withDeadline(work, 3_000, deadlineError));
    await vi.advanceTimersByTimeAsync(3_000);
    const settled = await raced;
    expect(!settled.ok && settled.error).toBeInstanceOf(DeadlineExceededError);
    finish("late rows");
    expect(await work).toBe("late rows");
  });

  it("passes the work's own result through before the deadline and leaves no timer", async () => {
    expect(await withDeadline(Promise.resolve("rows"), 3_000, deadlineError)).toBe("rows");
    expect(vi.getTimerCount()).toBe(0);
  });
});
