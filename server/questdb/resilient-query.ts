import { cacheKey, type LastKnownGoodCache } from "./cache";
import { ClassifiedError, failureMessage, isConnectionFailure, traitsOf, type FailureInfo } from "./errors";
import { ignoreEvents, type EmitQuestdbEvent } from "./events";
import type { QuestdbPolicy } from "./policy";
import type { Resilient } from "@/contract/answer";
import { answerWithin, type Fetched, type Flight, type LatencyBudget } from "./latency-budget";
import type { PreparedQuery } from "./queries";
import type { FleetFetch } from "../fleet/coordinated-fetch";

/**
 * The one place a QuestDB failure becomes an answer. Every data procedure goes through `run`,
 * and gets back the contract's union instead of an exception, a hang or an empty message.
 */

/** What the resilient query needs of the pool: run a query, classify failures, remember them. */
export interface QueryTarget {
  readonly endpoint: string;
  /** One attempt, bounded in time by the target itself (connect included). */
  query(sql: string, params: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Kind and cause of a failure, naming the endpoint, without secrets. */
  classify(error: unknown): FailureInfo;
  /** Whether QuestDB answered anything at or after `since` (epoch ms). */
  answeredSince(since: number): boolean;
  noteSuccess(at?: Date): void;
  noteFailure(description: string): void;
}

export interface ResilientQueryDeps {
  target: QueryTarget;
  policy: QuestdbPolicy;
  cache: LastKnownGoodCache;
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
  /** Fleet mode: answers shared with the other instances, one query per input for all of them. */
  fleet?: FleetFetch;
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
  const inFlight = new Map<string, Flight<unknown>>();
  const budget: LatencyBudget = {
    deadlineMs: deps.deadlineMs,
    softDeadlineMs: deps.softDeadlineMs,
    staleAfterMs: deps.staleAfterMs,
    answeredSince: (since) => deps.target.answeredSince(since),
  };

  /** Classified once: a failure that already is a ClassifiedError keeps its classification. */
  const classify = (error: unknown): ClassifiedError =>
    error instanceof ClassifiedError ? error : new ClassifiedError(deps.target.classify(error), error);

  async function attempt<T>(
    key: string,
    spec: QuerySpec<T>,
    onConnectionFailure: (error: ClassifiedError) => void,
  ): Promise<Fetched<T>> {
    const started = performance.now();
    const { sql, params, map } = spec.query;
    const own = async (): Promise<Fetched<T>> => {
      const rows = await deps.policy.execute(spec.operation, async () => {
        emit({ type: "query_started", operation: spec.operation });
        try {
          return await deps.target.query(sql, params);
        } catch (error) {
          const failed = classify(error);
          if (isConnectionFailure(failed.failure)) onConnectionFailure(failed);
          throw failed;
        }
      });
      return { value: map(rows), fetchedAt: now() };
    };
    try {
      // With the breaker open, this instance fails fast rather than wait its turn in the fleet.
      const viaFleet = deps.fleet && deps.policy.breakerState() === "closed";
      const { value, fetchedAt } = viaFleet ? await deps.fleet!.fetch(key, own) : await own();
      deps.cache.set(key, value, fetchedAt);
      deps.target.noteSuccess(new Date(fetchedAt));
      emit({ type: "query_succeeded", operation: spec.operation, seconds: (performance.now() - started) / 1000 });
      return { value, fetchedAt };
    } catch (error) {
      const failed = classify(error);
      const { failure } = failed;
      const message = failureMessage(spec.action, failure);
      // Failing fast or a full queue says nothing new about QuestDB itself.
      if (failure.kind !== "breaker_open" && failure.kind !== "pool_busy") deps.target.noteFailure(message);
      const original = failed.cause instanceof Error ? failed.cause : failed;
      emit({
        type: "query_failed",
        operation: spec.operation,
        seconds: (performance.now() - started) / 1000,
        failure,
        message,
        sql,
        stack: original.stack,
      });
      throw failed;
    }
  }

  function fetchUnderPolicy<T>(key: string, spec: QuerySpec<T>): Flight<T> {
    let noteFailure!: (error: ClassifiedError) => void;
    const firstConnectionFailure = new Promise<ClassifiedError>((resolve) => (noteFailure = resolve));
    const done = attempt(key, spec, noteFailure);
    const flight: Flight<T> = { done, firstConnectionFailure };
    inFlight.set(key, flight);
    // Past the caller's deadline nobody may be listening: the rejection is handled here.
    done.then(
      () => inFlight.delete(key),
      () => inFlight.delete(key),
    );
    return flight;
  }

  /** This instance's cached answer, or the fleet's when that one is newer. */
  async function newestCached<T>(key: string, freshForMs: number) {
    const mine = deps.cache.get<T>(key);
    if (!deps.fleet || (mine && now() - mine.fetchedAt < freshForMs)) return mine;
    const theirs = await deps.fleet.newest<T>(key);
    if (!theirs || (mine && mine.fetchedAt >= theirs.fetchedAt)) return mine;
    deps.cache.set(key, theirs.value, theirs.fetchedAt);
    return theirs;
  }

  /**
   * `freshForMs` (default the service's) overrides how old an answer may be reused: a live topic's
   * loop asks for less than its own period, or every other tick would reuse the previous one.
   */
  return async function run<T>(spec: QuerySpec<T>, options: { freshForMs?: number } = {}): Promise<Resilient<T>> {
    const key = cacheKey(spec.operation, spec.input);
    const freshForMs = Math.min(options.freshForMs ?? deps.freshForMs, deps.freshForMs);
    const cached = await newestCached<T>(key, freshForMs);
    if (cached && now() - cached.fetchedAt < freshForMs) {
      emit({ type: "answered", operation: spec.operation, status: "ok", fromCache: "fresh" });
      return { status: "ok", data: cached.value, fetchedAt: new Date(cached.fetchedAt).toISOString() };
    }
    let flight = inFlight.get(key) as Flight<T> | undefined;
    if (flight) emit({ type: "single_flight_joined", operation: spec.operation });
    else flight = fetchUnderPolicy(key, spec);

    try {
      const { value, fetchedAt } = await answerWithin(flight, cached !== undefined, budget);
      emit({ type: "answered", operation: spec.operation, status: "ok" });
      return { status: "ok", data: value, fetchedAt: new Date(fetchedAt).toISOString() };
    } catch (error) {
      const answer = answerFailure(deps, emit, key, spec, classify(error).failure);
      if (answer.status === "error") emit({ type: "answered", operation: spec.operation, status: "error" });
      return answer;
    }
  };
}

export type ResilientQuery = ReturnType<typeof createResilientQuery>;

/** A failure, as the union's answer: degraded with the cached data when the reason allows it and there is some. */
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
  if (reason === "query_failed") {
    return { status: "error", data: null, reason, message, cause, breaker };
  }
  const cached = deps.cache.peek<T>(key);
  if (!cached) {
    return { status: "error", data: null, reason, message, cause, breaker };
  }
  emit({
    type: "answered",
    operation: spec.operation,
    status: "degraded",
    fromCache: "stale",
    ageSeconds: ((deps.now ?? Date.now)() - cached.fetchedAt) / 1000,
  });
  const retryAt = deps.policy.retryAt(spec.operation);
  return {
    status: "degraded",
    data: cached.value,
    cachedAt: new Date(cached.fetchedAt).toISOString(),
    reason,
    message,
    cause,
    breaker,
    ...(retryAt ? { retryAt: retryAt.toISOString() } : {}),
  };
}
