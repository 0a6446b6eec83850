/**
 * How old an answer is, on this instance's clock. A timestamp in the future (a clock stepped
 * back, an entry from a host that runs ahead) counts as now: an age is never negative, and a time
 * shown to people is never later than now.
 */

export function ageOf(fetchedAt: number, now: number): number {
  return Math.max(0, now - fetchedAt);
}

/** `fetchedAt`, or now when it lies in the future. */
export function notAfterNow(fetchedAt: number, now: number): number {
  return Math.min(fetchedAt, now);
}
