/**
 * What the sseViewers scenario measures and for how long: viewer counts, the window, when the
 * writes land, and the polling viewers' cadence. BENCH_SSE_SIZES / BENCH_SSE_MODES pick one
 * corner of the grid when working on it.
 */

/** Both kinds of viewer ask for this many sessions. */
export const LIMIT = 100;
export const POLL_INTERVAL_MS = 2_000;
/** Polling viewers run this long before the window, so each has answered at least once. */
export const POLL_WARM_UP_MS = 3_000;
/** A poll unanswered this long counts as failed (a saturated app queues requests for longer). */
export const POLL_TIMEOUT_MS = 15_000;
/** After the window, until every viewer has seen every write (or this much later). */
export const GRACE_MS = 5_000;
/** The headline figures: delays at this size, load at the largest one measured. */
export const DELAY_SIZE = 2_000;

export type Mode = "sse" | "polling";

export interface Plan {
  sizes: number[];
  modes: Mode[];
  windowMs: number;
  /** When, from the window's start, a new session is inserted. */
  writeOffsetsMs: number[];
}

/**
 * Writes 2.3 s apart: against the 2 s polling interval (and a live loop of 1 or 2 s) they land at
 * well-spread phases, and the last one leaves the grace period for the slowest poll.
 */
const offsets = (count: number) => Array.from({ length: count }, (_, k) => 1_000 + k * 2_300);
const BOTH: Mode[] = ["sse", "polling"];
const FULL: Plan = { sizes: [100, 500, 2_000], modes: BOTH, windowMs: 20_000, writeOffsetsMs: offsets(8) };
const QUICK: Plan = { sizes: [100, 500], modes: BOTH, windowMs: 10_000, writeOffsetsMs: offsets(4) };

/** The full or quick plan, narrowed by BENCH_SSE_SIZES=2000 and BENCH_SSE_MODES=sse when set. */
export function planFor(quick: boolean, env: NodeJS.ProcessEnv = process.env): Plan {
  const base = quick ? QUICK : FULL;
  const sizes = (env.BENCH_SSE_SIZES ?? "")
    .split(",")
    .map(Number)
    .filter((n) => n > 0);
  const modes = (env.BENCH_SSE_MODES ?? "").split(",").filter((m): m is Mode => m === "sse" || m === "polling");
  return { ...base, sizes: sizes.length ? sizes : base.sizes, modes: modes.length ? modes : base.modes };
}

/** The size whose delays are the headline figures, and the one whose load is. */
export function headlineSizes(plan: Plan): { delaySize: number; loadSize: number } {
  const last = plan.sizes[plan.sizes.length - 1]!;
  return { delaySize: plan.sizes.includes(DELAY_SIZE) ? DELAY_SIZE : last, loadSize: last };
}
