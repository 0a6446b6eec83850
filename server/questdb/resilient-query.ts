import type { Resilient } from "@/contract/answer";
import { ageOf, notAfterNow } from "@/server/last-known-good/age";
import { cacheKey } from "@/server/last-known-good/memory-cache";
import { failureMessage, failureOf, traitsOf, type FailureInfo } from "./errors";
import { ignoreEvents, type EmitQuestdbEvent } from "./events";
import { createFlights } from "./flights";
import { answerWithin, type Fetched, type Kept, type LatencyBudget } from "./latency-budget";
import type { QuestdbPolicy } from "./policy";
import type { PreparedQuery } from "./queries";

/**
 * The one place a QuestDB failure becomes an answer. Every data procedure goes through `run`,
 * and gets back the contract's union instead of an exception, a hang or an empty message:
 * a fresh kept answer as is; else the query (one per input, flights.ts) within the caller's time
 * (latency-budget.ts); else — `answerFailure` below — degraded with the kept answer when the
 * failure's kind allows it and there is one, error otherwise.
 */

/** What the resilient query needs of the pool: run a query, and whether QuestDB answered lately. */
export interface QueryTarget {
  readonly endpoint: string;
  /** One attempt, bounded in time by the target itself (connect included); rejects classified. */
  query(sql: string, params: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Whether QuestDB answered anything at or after `since` (epoch ms). */
  answeredSince(since: number): boolean;
}

/** What the resilient query needs of last-known-good (server/last-known-good/): its answers. */
export interface KeptAnswers {
  /** The newest answer kept for `key` (here, or the fleet's unless mine is younger than `freshForMs`). */
  read<T>(key: string, freshForMs: number): Promise<Kept<T> | undefined>;
  /**
   * `own()`'s answer, given its version — or, `viaFleet`, one another instance fetched meanwhile
   * that is younger than `freshForMs` — kept.
   */
  fetch<T>(
    key: string,
    own: () => Promise<Fetched<T>>,
    options: { viaFleet: boolean; freshForMs: number },
  ): Promise<Kept<T>>;
  /** The answer kept for `key`, looked at without counting a use. */
  peek<T>(key: string): Kept<T> | undefined;
}

export interface ResilientQueryDeps {
  target: QueryTarget;
  policy: Pick<QuestdbPolicy, "execute" | "breakerState" | "retryAt">;
  answers: KeptAnswers;
  /** Longest a caller with nothing cached waits, retries included. */
  deadlineMs: number;
  /** A caller with a cached answer gets it (degraded) this long after the first connection failure… */
  staleAfterMs: number;
  /** …and in any case once this long has passed with no answer (a frozen QuestDB gives no failure). */
  softDeadlineMs: number;
  /** A success younger than this is reused as is: a room of viewers costs about one query per second. */
  freshForMs: number;
  emit?: EmitQuestdbEvent;
  now?: () => number;
}

export interface QuerySpec<T> {
  /** Procedure name, for metrics, logs and the cache key, e.g. "sessions.active". */
  operation: string;
  /** What the caller wanted, in words, for messages: "get active sessions". */
  action: string;
  input: unknown;
  query: PreparedQuery<T>;
}

export function createResilientQuery(deps: ResilientQueryDeps) {
  const now = deps.now ?? Date.now;
  const emit = deps.emit ?? ignoreEvents;
  const flights = createFlights({ ...deps, emit, now });
  const budget: LatencyBudget = {
    deadlineMs: deps.deadlineMs,
    softDeadlineMs: deps.softDeadlineMs,
    staleAfterMs: deps.staleAfterMs,
    endpoint: deps.target.endpoint,
    answeredSince: (since) => deps.target.answeredSince(since),
  };

  /**
   * `freshForMs` (default the service's) overrides how old an answer may be reused: a live topic's
   * loop asks for less than its own period, or every other tick would reuse the previous one.
   */
  return async function run<T>(spec: QuerySpec<T>, options: { freshForMs?: number } = {}): Promise<Resilient<T>> {
    const key = cacheKey(spec.operation, spec.input);
    const freshForMs = Math.min(options.freshForMs ?? deps.freshForMs, deps.freshForMs);
    const kept = await deps.answers.read<T>(key, freshForMs);
    if (kept && ageOf(kept.fetchedAt, now()) < freshForMs) {
      emit({ type: "answered", operation: spec.operation, status: "ok", fromCache: "fresh" });
      return okAnswer(kept, now());
    }
    let flight = flights.joining<T>(key);
    if (flight) emit({ type: "single_flight_joined", operation: spec.operation });
    else flight = flights.start(key, spec, freshForMs);

    try {
      const fetched = await answerWithin(flight, kept !== undefined, budget);
      emit({ type: "answered", operation: spec.operation, status: "ok" });
      return okAnswer(fetched, now());
    } catch (error) {
      return answerFailure(deps, emit, key, spec, failureOf(error));
    }
  };
}

export type ResilientQuery = ReturnType<typeof createResilientQuery>;

/** The answer's time as people see it: never in the future. */
const shownTime = (fetchedAt: number, now: number) => new Date(notAfterNow(fetchedAt, now)).toISOString();

function okAnswer<T>(kept: Kept<T>, now: number): Resilient<T> {
  return { status: "ok", data: kept.value, fetchedAt: shownTime(kept.fetchedAt, now), version: kept.version };
}

/** A failure, as the union's answer: degraded with the kept data when the reason allows it and there is some. */
function answerFailure<T>(
  deps: ResilientQueryDeps,
  emit: EmitQuestdbEvent,
  key: string,
  spec: QuerySpec<T>,
  failure: FailureInfo,
): Resilient<T> {
  const message = failureMessage(spec.action, failure);
  const { cause } = failure;
  const breaker = deps.policy.breakerState();
  const { reason } = traitsOf(failure);
  const error = (): Resilient<T> => {
    emit({ type: "answered", operation: spec.operation, status: "error", reason });
    return { status: "error", data: null, reason, message, cause, breaker };
  };
  // A failed query is the query's own fault: kept data would hide it.
  if (reason === "query_failed") return error();
  const kept = deps.answers.peek<T>(key);
  if (!kept) return error();
  const now = (deps.now ?? Date.now)();
  emit({
    type: "answered",
    operation: spec.operation,
    status: "degraded",
    reason,
    fromCache: "stale",
    ageSeconds: ageOf(kept.fetchedAt, now) / 1000,
  });
  const retryAt = deps.policy.retryAt(spec.operation);
  return {
    status: "degraded",
    data: kept.value,
    cachedAt: shownTime(kept.fetchedAt, now),
    version: kept.version,
    reason,
    message,
    cause,
    breaker,
    ...(retryAt ? { retryAt: retryAt.toISOString() } : {}),
  };
}
