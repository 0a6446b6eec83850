import { IterableBackoff, handleWhen, isBrokenCircuitError, retry } from "cockatiel";
import type { BreakerState } from "@/contract/answer";
import { createEndpointBreaker } from "./endpoint-breaker";
import { ClassifiedError, failureOf, traitsOf } from "./errors";
import { ignoreEvents, type EmitQuestdbEvent } from "./events";
import { DEFAULT_OPERATION_BREAKER, createOperationBreakers, type OperationBreakerOptions } from "./operation-breakers";

export { DEFAULT_OPERATION_BREAKER, type OperationBreakerOptions };

/**
 * The resilience policy of one QuestDB endpoint, for every operation on it:
 * retry ∘ endpoint breaker ∘ the operation's own breaker ∘ the attempt.
 * - retry: failures whose kind says so (connection failures always, a slow call once);
 * - the endpoint breaker (endpoint-breaker.ts) counts connection failures only, and a successful
 *   health check may end its wait early (`releaseBreaker`);
 * - each operation's breaker (operation-breakers.ts) counts slow calls and degrades only that
 *   operation.
 * Every failure arrives classified (the pool's), and the policy reads its kind; the failures it
 * raises itself (an open breaker) it classifies where it raises them.
 * The attempt itself (pool.ts) bounds its own time, connect included, so a half-open probe, which
 * other callers wait for, can never hang them. The caller's deadline sits outside everything.
 */

export interface PolicyOptions {
  retryDelaysMs: readonly number[];
  breakerThreshold: number;
  breakerRecoveryMs: number;
  operationBreaker?: OperationBreakerOptions;
  /** Names the endpoint in the failures the policy raises itself. */
  endpoint?: string;
  emit?: EmitQuestdbEvent;
  now?: () => number;
}

export interface QuestdbPolicy {
  /** Runs one attempt of `operation` (or more, if its failures are retried) under both breakers. */
  execute<T>(operation: string, attempt: () => Promise<T>): Promise<T>;
  /** The endpoint breaker's state. */
  breakerState(): BreakerState;
  /** The state of one operation's own breaker. */
  operationState(operation: string): BreakerState;
  /** When the next probe may go through: the endpoint breaker's, else the operation's, while open. */
  retryAt(operation?: string): Date | null;
  /**
   * Health check saw QuestDB answer: let the next call probe now instead of after the full wait
   * (true), or, held open by the fleet, close at once (false: nothing to probe).
   */
  releaseBreaker(): boolean;
  /**
   * Another instance of the fleet opened its breaker: fail fast here too until `release` is called
   * (it closed there) or `maxMs` passes (the announcer may have died). Returns `release`.
   */
  isolate(fleet: { cause: string; retryAt?: number; maxMs: number }): () => void;
}

export function createQuestdbPolicy(options: PolicyOptions): QuestdbPolicy {
  const now = options.now ?? Date.now;
  const emit = options.emit ?? ignoreEvents;
  const endpoint = createEndpointBreaker({
    threshold: options.breakerThreshold,
    recoveryMs: options.breakerRecoveryMs,
    endpoint: options.endpoint,
    emit,
    now,
  });
  const operations = createOperationBreakers(
    { ...DEFAULT_OPERATION_BREAKER, recoveryMs: options.breakerRecoveryMs, ...options.operationBreaker },
    emit,
    now,
  );
  const retryPolicy = retry(
    handleWhen(
      (error) => !(error instanceof ClassifiedError && error.final) && traitsOf(failureOf(error)).retry !== "never",
    ),
    { maxAttempts: options.retryDelaysMs.length, backoff: new IterableBackoff([...options.retryDelaysMs]) },
  );
  retryPolicy.onRetry((event) => {
    const cause = "error" in event ? failureOf(event.error).cause : "unexpected result";
    emit({ type: "retry", attempt: event.attempt, delayMs: event.delay, cause });
  });

  return {
    execute<T>(operation: string, attempt: () => Promise<T>): Promise<T> {
      const once = slowCallTriedOnce(attempt);
      const underEndpoint = () =>
        endpoint.breaker
          .execute(() => operations.execute(operation, once))
          .catch((error: unknown) => {
            if (isBrokenCircuitError(error as Error)) throw endpoint.openFailure();
            throw error;
          });
      return retryPolicy.execute(underEndpoint);
    },
    breakerState: endpoint.state,
    operationState: operations.state,
    retryAt: (operation) => endpoint.retryAt() ?? (operation ? operations.retryAt(operation) : null),
    releaseBreaker: endpoint.release,
    isolate: endpoint.isolate,
  };
}

/** The attempt, whose second slow call is final: a slow call is tried again once, never more. */
function slowCallTriedOnce<T>(attempt: () => Promise<T>): () => Promise<T> {
  let slowCalls = 0;
  return async () => {
    try {
      return await attempt();
    } catch (error) {
      const failure = failureOf(error);
      if (traitsOf(failure).retry === "once" && ++slowCalls > 1)
        throw new ClassifiedError(failure, error, { final: true });
      throw error;
    }
  };
}
