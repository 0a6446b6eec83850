/**
 * The answer's contract: what every data procedure returns and every panel reads. Client-safe:
 * it imports nothing, so the server, the browser and outside clients share these one definitions.
 */

/** The endpoint breaker, as callers see it. */
export type BreakerState = "closed" | "open" | "half-open";

/**
 * Whose problem a failure is: QuestDB unreachable; this query slow (its own breaker or limit,
 * QuestDB otherwise fine); the app's queue full; the query itself failed (never served from cache).
 */
export type FailureReason = "database_unavailable" | "query_slow" | "busy" | "query_failed";

/** The reasons a cached answer may stand in for a fresh one. */
export type DegradedReason = Exclude<FailureReason, "query_failed">;

/**
 * `version` (additive; absent from answers of older servers) orders answers for one procedure and
 * input whatever the hosts' clocks say: the highest is the newest. The same fetch has the same
 * version on every instance and in every event, so a browser compares versions, not times.
 */
export type Resilient<T> =
  | { status: "ok"; data: T; fetchedAt: string; version?: number }
  | {
      status: "degraded";
      data: T;
      cachedAt: string;
      version?: number;
      reason: DegradedReason;
      message: string;
      /** The failure in words without the operation, e.g. "connection refused (127.0.0.1:8812)". */
      cause: string;
      breaker: BreakerState;
      retryAt?: string;
    }
  | {
      status: "error";
      data: null;
      reason: FailureReason;
      message: string;
      cause: string;
      breaker: BreakerState;
    };

export type ResilientStatus = Resilient<unknown>["status"];

/** One event of a live topic (a subscription): the answer, with an id a reconnecting client resends. */
export interface LiveEvent<T = unknown> {
  /** `<loop id>.<sequence>`: the same on every instance of a fleet, newer sequences are newer. */
  id: string;
  answer: T;
}
