import { ClassifiedError, failureMessage, failureOf, isConnectionFailure } from "./errors";
import type { EmitQuestdbEvent } from "./events";
import type { Fetched, Flight, Kept } from "./latency-budget";
import type { QuestdbPolicy } from "./policy";
import type { KeptAnswers, QuerySpec, QueryTarget } from "./resilient-query";

/**
 * The queries under way, one per input, shared by every caller of that input (single-flight).
 * A flight runs its query under the policy — through the fleet's one-query claim while the breaker
 * is closed — has last-known-good keep the answer, and reports how it went. It outlives its
 * callers: past their deadline it goes on, and its answer refreshes what is kept.
 */

export interface FlightDeps {
  target: QueryTarget;
  policy: Pick<QuestdbPolicy, "execute" | "breakerState">;
  answers: KeptAnswers;
  emit: EmitQuestdbEvent;
  now: () => number;
}

export function createFlights(deps: FlightDeps) {
  const { emit, now } = deps;
  const inFlight = new Map<string, Flight<unknown>>();

  /** The query itself under the policy; its first connection failure is told at once. */
  function ownQuery<T>(spec: QuerySpec<T>, onConnectionFailure: (error: ClassifiedError) => void) {
    const { sql, params, map } = spec.query;
    return async (): Promise<Fetched<T>> => {
      const rows = await deps.policy.execute(spec.operation, async () => {
        emit({ type: "query_started", operation: spec.operation });
        try {
          return await deps.target.query(sql, params);
        } catch (error) {
          // The target's failures come classified (the pool classifies once).
          if (isConnectionFailure(failureOf(error))) onConnectionFailure(error as ClassifiedError);
          throw error;
        }
      });
      return { value: map(rows), fetchedAt: now() };
    };
  }

  async function attempt<T>(
    key: string,
    spec: QuerySpec<T>,
    freshForMs: number,
    onConnectionFailure: (error: ClassifiedError) => void,
  ): Promise<Kept<T>> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      // With the breaker open, this instance fails fast rather than wait its turn in the fleet.
      const viaFleet = deps.policy.breakerState() === "closed";
      const own = ownQuery(spec, onConnectionFailure);
      const fetched = await deps.answers.fetch(key, own, { viaFleet, freshForMs });
      emit({ type: "query_succeeded", operation: spec.operation, seconds: seconds(), fetchedAt: fetched.fetchedAt });
      return fetched;
    } catch (error) {
      const failure = failureOf(error);
      const original = error instanceof ClassifiedError && error.cause instanceof Error ? error.cause : error;
      emit({
        type: "query_failed",
        operation: spec.operation,
        seconds: seconds(),
        failure,
        message: failureMessage(spec.action, failure),
        sql: spec.query.sql,
        stack: original instanceof Error ? original.stack : undefined,
      });
      throw error;
    }
  }

  return {
    /** The flight under way for `key`, if any. */
    joining<T>(key: string): Flight<T> | undefined {
      return inFlight.get(key) as Flight<T> | undefined;
    },
    /**
     * Starts the query for `key`; later callers of `key` join it until it ends. `freshForMs` is the
     * starting caller's reuse window: a fleet answer younger than it is taken instead of querying.
     */
    start<T>(key: string, spec: QuerySpec<T>, freshForMs: number): Flight<T> {
      let noteFailure!: (error: ClassifiedError) => void;
      const firstConnectionFailure = new Promise<ClassifiedError>((resolve) => (noteFailure = resolve));
      const done = attempt(key, spec, freshForMs, noteFailure);
      const flight: Flight<T> = { done, firstConnectionFailure };
      inFlight.set(key, flight);
      // Past the caller's deadline nobody may be listening: the rejection is handled here.
      done.then(
        () => inFlight.delete(key),
        () => inFlight.delete(key),
      );
      return flight;
    },
  };
}
