import { withDeadline } from "@/server/lib/with-deadline";
import { DeadlineExceededError, toClassifiedError, type ClassifiedError } from "./errors";

/**
 * How long a caller waits for a query under way. A caller whose input has a cached answer is not
 * made to wait out the whole retry ladder or a frozen server: it is answered (from the cache)
 * `staleAfterMs` after the first connection failure, and in any case after `softDeadlineMs`. One
 * with nothing cached waits up to `deadlineMs` for a real answer. The query goes on either way and
 * refreshes the cache when it ends.
 */

/** What a query got, and when (epoch ms on this instance's clock). */
export interface Fetched<T> {
  value: T;
  fetchedAt: number;
}

/** An answer as last-known-good keeps it: with its version (the highest is the newest, whatever the clocks). */
export interface Kept<T> extends Fetched<T> {
  version: number;
}

/** One query under way for one input, shared by every caller of that input (single-flight). */
export interface Flight<T> {
  done: Promise<Kept<T>>;
  /** Settles with the first connection failure of its attempts, if there is one. */
  firstConnectionFailure: Promise<ClassifiedError>;
}

export interface LatencyBudget {
  deadlineMs: number;
  softDeadlineMs: number;
  staleAfterMs: number;
  /** Names the endpoint in the deadline failure, which is classified here, where it is raised. */
  endpoint: string;
  /** Whether QuestDB answered anything at or after `since`: then a late query is slow, not QuestDB down. */
  answeredSince(since: number): boolean;
}

/** Resolves with `value()` after `ms`, unless cancelled. */
function after<T>(ms: number, value: () => T): { promise: Promise<T>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(value()), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** The flight's result, or the failure to answer with once the caller's time is up. */
export async function answerWithin<T>(flight: Flight<T>, hasCache: boolean, budget: LatencyBudget): Promise<Kept<T>> {
  const since = Date.now();
  const expired = (ms: number) => () =>
    toClassifiedError(new DeadlineExceededError(ms, budget.answeredSince(since)), { endpoint: budget.endpoint });
  if (!hasCache) return withDeadline(flight.done, budget.deadlineMs, expired(budget.deadlineMs));
  const soft = after(budget.softDeadlineMs, expired(budget.softDeadlineMs));
  let stale: { cancel(): void } | undefined;
  const staleAfterFailure = flight.firstConnectionFailure.then((failed) => {
    const timer = after(budget.staleAfterMs, () => failed);
    stale = timer;
    return timer.promise;
  });
  try {
    const timeUp = Promise.race([soft.promise, staleAfterFailure]).then((error) => Promise.reject(error));
    return await Promise.race([flight.done, timeUp]);
  } finally {
    soft.cancel();
    stale?.cancel();
  }
}
