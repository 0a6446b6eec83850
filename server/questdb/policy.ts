import {
  CircuitState,
  ConsecutiveBreaker,
  CountBreaker,
  IterableBackoff,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  retry,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IBackoffFactory,
} from "cockatiel";
import {
  BreakerOpenError,
  ClassifiedError,
  FleetBreakerError,
  OperationOpenError,
  classifyFailure,
  traitsOf,
} from "./errors";
import { ignoreEvents, type EmitQuestdbEvent } from "./events";
import type { BreakerState } from "@/contract/answer";

/**
 * The resilience policy of one QuestDB endpoint, for every operation on it:
 * retry ∘ endpoint breaker ∘ the operation's own breaker ∘ the attempt.
 * - retry: failures whose kind says so (connection failures always, a slow call once);
 * - the endpoint breaker counts connection failures only (5 in a row → open 30 s → one probe),
 *   and a successful health check may end its wait early (`releaseBreaker`);
 * - each operation's breaker (a registry keyed by operation, as resilience4j keeps one per name)
 *   counts slow calls — attempts that ran out of time while QuestDB answered other queries — over
 *   a sliding window, and degrades only that operation; the health check never releases it.
 * The attempt itself (pool.ts) bounds its own time, connect included, so a half-open probe, which
 * other callers wait for, can never hang them. The caller's deadline sits outside everything.
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

export interface PolicyOptions {
  retryDelaysMs: readonly number[];
  breakerThreshold: number;
  breakerRecoveryMs: number;
  operationBreaker?: OperationBreakerOptions;
  emit?: EmitQuestdbEvent;
  now?: () => number;
}

/**
 * The half-open delay as a backoff whose duration cockatiel reads at every call while open, so a
 * successful health check can end the wait early (`release`) without waiting out the full time.
 */
class ReleasableDelay implements IBackoff<unknown> {
  private released = false;
  constructor(
    private readonly ms: number,
    private readonly factory: ReleasableDelayFactory,
  ) {}
  get duration(): number {
    return this.released ? 0 : this.ms;
  }
  release(): void {
    this.released = true;
  }
  /** cockatiel asks the current delay for the next one when a half-open probe fails. */
  next(): ReleasableDelay {
    return this.factory.next();
  }
}

class ReleasableDelayFactory implements IBackoffFactory<unknown> {
  current: ReleasableDelay | undefined;
  constructor(private readonly ms: number) {}
  next(): ReleasableDelay {
    this.current = new ReleasableDelay(this.ms, this);
    return this.current;
  }
}

function toBreakerState(state: CircuitState): BreakerState {
  switch (state) {
    case CircuitState.Closed:
      return "closed";
    case CircuitState.HalfOpen:
      return "half-open";
    default:
      return "open"; // Open, or Isolated (never used here)
  }
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
  /** Health check saw QuestDB answer: let the next call probe now instead of after the full wait. */
  releaseBreaker(): boolean;
  /**
   * Another instance of the fleet opened its breaker: fail fast here too until `release` is called
   * (it closed there) or `maxMs` passes (the announcer may have died). Returns `release`.
   */
  isolate(fleet: { cause: string; retryAt?: number; maxMs: number }): () => void;
}

export const DEFAULT_OPERATION_BREAKER: Omit<OperationBreakerOptions, "recoveryMs"> = {
  window: 10,
  minimumCalls: 4,
  slowRate: 0.5,
};

interface OperationBreaker {
  breaker: CircuitBreakerPolicy;
  openedAt: number | null;
}

export function createQuestdbPolicy(options: PolicyOptions): QuestdbPolicy {
  const now = options.now ?? Date.now;
  const emit = options.emit ?? ignoreEvents;
  const counts = (scope: "endpoint" | "operation") => (error: Error) =>
    traitsOf(classifyFailure(error)).counts === scope;
  const lastFailureOf = (policy: CircuitBreakerPolicy) => {
    const last = policy.lastFailure;
    return last && "error" in last ? last.error : undefined;
  };

  const halfOpenDelay = new ReleasableDelayFactory(options.breakerRecoveryMs);
  let openedAt: number | null = null;
  const endpoint = circuitBreaker(handleWhen(counts("endpoint")), {
    halfOpenAfter: halfOpenDelay,
    breaker: new ConsecutiveBreaker(options.breakerThreshold),
  });
  let fleet: { cause: string; retryAt?: number } | null = null;
  endpoint.onStateChange((circuit) => {
    const state = toBreakerState(circuit);
    openedAt = state === "open" ? now() : state === "closed" ? null : openedAt;
    if (circuit === CircuitState.Isolated)
      return emit({ type: "breaker_changed", state, cause: fleet?.cause, fromFleet: true });
    if (state !== "open") return emit({ type: "breaker_changed", state, ...(fleet ? { fromFleet: true } : {}) });
    const failure = lastFailureOf(endpoint);
    const cause = failure === undefined ? "consecutive failures" : classifyFailure(failure).cause;
    emit({ type: "breaker_changed", state, cause, retryInMs: options.breakerRecoveryMs });
  });

  const operationOptions = {
    ...DEFAULT_OPERATION_BREAKER,
    recoveryMs: options.breakerRecoveryMs,
    ...options.operationBreaker,
  };
  const operations = new Map<string, OperationBreaker>();
  function operationBreaker(operation: string): OperationBreaker {
    let entry = operations.get(operation);
    if (entry) return entry;
    const breaker = circuitBreaker(handleWhen(counts("operation")), {
      halfOpenAfter: operationOptions.recoveryMs,
      breaker: new CountBreaker({
        threshold: operationOptions.slowRate,
        size: operationOptions.window,
        minimumNumberOfCalls: operationOptions.minimumCalls,
      }),
    });
    const created: OperationBreaker = { breaker, openedAt: null };
    breaker.onStateChange((circuit) => {
      const state = toBreakerState(circuit);
      created.openedAt = state === "open" ? now() : state === "closed" ? null : created.openedAt;
      const failure = state === "open" ? lastFailureOf(breaker) : undefined;
      emit({
        type: "operation_breaker_changed",
        operation,
        state,
        ...(failure !== undefined ? { cause: classifyFailure(failure).cause } : {}),
      });
    });
    operations.set(operation, created);
    entry = created;
    return entry;
  }

  const retryPolicy = retry(
    handleWhen(
      (error) =>
        !(error instanceof ClassifiedError && error.final) && traitsOf(classifyFailure(error)).retry !== "never",
    ),
    { maxAttempts: options.retryDelaysMs.length, backoff: new IterableBackoff([...options.retryDelaysMs]) },
  );
  retryPolicy.onRetry((event) => {
    const cause = "error" in event ? classifyFailure(event.error).cause : "unexpected result";
    emit({ type: "retry", attempt: event.attempt, delayMs: event.delay, cause });
  });

  return {
    execute<T>(operation: string, attempt: () => Promise<T>): Promise<T> {
      const own = operationBreaker(operation);
      let slowCalls = 0;
      const once = async (): Promise<T> => {
        try {
          return await attempt();
        } catch (error) {
          const failure = classifyFailure(error);
          // A slow call is tried again once; the second is final.
          if (traitsOf(failure).retry === "once" && ++slowCalls > 1)
            throw new ClassifiedError(failure, error, { final: true });
          throw error;
        }
      };
      const underOperation = () =>
        own.breaker.execute(once).catch((error: unknown) => {
          if (isBrokenCircuitError(error as Error)) throw new OperationOpenError(operation, lastFailureOf(own.breaker));
          throw error;
        });
      return retryPolicy
        .execute(() => endpoint.execute(underOperation))
        .catch((error: unknown) => {
          if (isBrokenCircuitError(error as Error))
            throw new BreakerOpenError(fleet ? new FleetBreakerError(fleet.cause) : lastFailureOf(endpoint));
          throw error;
        });
    },
    breakerState: () => toBreakerState(endpoint.state),
    operationState: (operation) => toBreakerState(operations.get(operation)?.breaker.state ?? CircuitState.Closed),
    retryAt(operation) {
      if (fleet?.retryAt) return new Date(Math.max(now(), fleet.retryAt));
      if (endpoint.state === CircuitState.Open && openedAt !== null) {
        const wait = halfOpenDelay.current?.duration ?? options.breakerRecoveryMs;
        return new Date(Math.max(now(), openedAt + wait));
      }
      const own = operation ? operations.get(operation) : undefined;
      if (own && own.breaker.state === CircuitState.Open && own.openedAt !== null) {
        return new Date(Math.max(now(), own.openedAt + operationOptions.recoveryMs));
      }
      return null;
    },
    releaseBreaker() {
      if (endpoint.state !== CircuitState.Open || !halfOpenDelay.current) return false;
      if (halfOpenDelay.current.duration === 0) return false;
      halfOpenDelay.current.release();
      emit({ type: "breaker_released", reason: "health check succeeded" });
      return true;
    },
    isolate(told) {
      if (fleet || endpoint.state !== CircuitState.Closed) return () => undefined;
      fleet = { cause: told.cause, retryAt: told.retryAt };
      return isolateFor(endpoint, told.maxMs, () => (fleet = null));
    },
  };
}

/** Holds `endpoint` open until the returned release is called, or for `maxMs` at most. */
function isolateFor(endpoint: CircuitBreakerPolicy, maxMs: number, onRelease: () => void): () => void {
  const handle = endpoint.isolate();
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    clearTimeout(timer);
    handle.dispose(); // its "closed" is still told as the fleet's, then the fleet's hold is gone
    onRelease();
  };
  const timer = setTimeout(release, maxMs);
  timer.unref?.();
  return release;
}
