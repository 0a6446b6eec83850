import {
  CircuitState,
  CountBreaker,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  type CircuitBreakerPolicy,
} from "cockatiel";
import type { BreakerState } from "@/contract/answer";
import { lastFailureOf, openedAtOf, toBreakerState } from "./breaker-state";
import { OperationOpenError, failureOf, toClassifiedError, traitsOf, type ClassifiedError } from "./errors";
import type { EmitQuestdbEvent } from "./events";

/**
 * Each operation's own breaker, a registry keyed by operation (as resilience4j keeps one per
 * name). It counts slow calls — attempts that ran out of time while QuestDB answered other
 * queries — over a sliding window, and degrades only that operation; the health check never
 * releases it.
 */

export interface OperationBreakerOptions {
  /** The last this many calls of one operation are looked at… */
  window: number;
  /** …once there are at least this many… */
  minimumCalls: number;
  /** …and when at least this share of them were slow, the operation's breaker opens. */
  slowRate: number;
  recoveryMs: number;
}

export const DEFAULT_OPERATION_BREAKER: Omit<OperationBreakerOptions, "recoveryMs"> = {
  window: 10,
  minimumCalls: 4,
  slowRate: 0.5,
};

export interface OperationBreakers {
  /** Runs `attempt` under `operation`'s breaker; while it is open, fails fast (classified). */
  execute<T>(operation: string, attempt: () => Promise<T>): Promise<T>;
  state(operation: string): BreakerState;
  /** When `operation`'s next probe may go through, while its breaker is open. */
  retryAt(operation: string): Date | null;
}

export function createOperationBreakers(
  options: OperationBreakerOptions,
  emit: EmitQuestdbEvent,
  now: () => number,
): OperationBreakers {
  const breakers = new Map<string, CircuitBreakerPolicy>();

  function breakerOf(operation: string): CircuitBreakerPolicy {
    const existing = breakers.get(operation);
    if (existing) return existing;
    const breaker = circuitBreaker(
      handleWhen((error) => traitsOf(failureOf(error)).counts === "operation"),
      {
        halfOpenAfter: options.recoveryMs,
        breaker: new CountBreaker({
          threshold: options.slowRate,
          size: options.window,
          minimumNumberOfCalls: options.minimumCalls,
        }),
      },
    );
    breaker.onStateChange((circuit) => {
      const state = toBreakerState(circuit);
      const failure = state === "open" ? lastFailureOf(breaker) : undefined;
      emit({
        type: "operation_breaker_changed",
        operation,
        state,
        ...(failure !== undefined ? { cause: failureOf(failure).cause } : {}),
      });
    });
    breakers.set(operation, breaker);
    return breaker;
  }

  return {
    execute(operation, attempt) {
      const breaker = breakerOf(operation);
      return breaker.execute(attempt).catch((error: unknown) => {
        if (isBrokenCircuitError(error as Error)) throw openFailure(operation, lastFailureOf(breaker));
        throw error;
      });
    },
    state: (operation) => toBreakerState(breakers.get(operation)?.state ?? CircuitState.Closed),
    retryAt(operation) {
      const breaker = breakers.get(operation);
      const openedAt = breaker ? openedAtOf(breaker) : null;
      return openedAt === null ? null : new Date(Math.max(now(), openedAt + options.recoveryMs));
    },
  };
}

/** Raised here, so classified here: the operation is paused, QuestDB itself is fine. */
function openFailure(operation: string, lastFailure: unknown): ClassifiedError {
  return toClassifiedError(new OperationOpenError(operation, lastFailure));
}
