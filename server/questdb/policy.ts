import {
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  IterableBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  retry,
  timeout,
  wrap,
  type IBackoff,
  type IBackoffFactory,
} from "cockatiel";
import { AttemptTimeoutError, BreakerOpenError, classifyFailure, isConnectionFailure } from "./errors";
import { ignoreEvents, type EmitQuestdbEvent } from "./events";

/**
 * The resilience policy shared by every procedure on one QuestDB endpoint:
 * bulkhead ∘ retry(connection failures) ∘ circuit breaker ∘ per-attempt timeout.
 * The timeout sits inside the breaker because cockatiel makes other callers wait for a half-open
 * probe: an unbounded probe would hold them all. The bulkhead lets at most as many attempts run as
 * the pool has connections, so the attempt's clock never runs while it waits for a free connection:
 * a busy but healthy QuestDB must not look like a dead one and open the breaker for everyone.
 * The caller's deadline (server/lib/with-deadline.ts) sits outside everything, so no caller waits longer than it
 * while the attempt may go on.
 */

export type BreakerState = "closed" | "open" | "half-open";

export interface PolicyOptions {
  retryDelaysMs: readonly number[];
  breakerThreshold: number;
  breakerRecoveryMs: number;
  attemptTimeoutMs: number;
  /** Attempts that may run at once (the pool's size); more wait in a queue of `maxQueued`. */
  maxConcurrent?: number;
  maxQueued?: number;
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
  /** Runs `fn` under retry ∘ breaker ∘ timeout; `signal` aborts when the attempt's time is up. */
  execute<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
  breakerState(): BreakerState;
  /** When the breaker will let the next probe through, while it is open. */
  retryAt(): Date | null;
  /** Health check saw QuestDB answer: let the next call probe now instead of after the full wait. */
  releaseBreaker(): boolean;
}

export function createQuestdbPolicy(options: PolicyOptions): QuestdbPolicy {
  const now = options.now ?? Date.now;
  const emit = options.emit ?? ignoreEvents;
  // A full queue is the app's own limit, not QuestDB failing: never retried, never counted.
  const isConnection = (error: Error) => !(error instanceof BulkheadRejectedError) && isConnectionFailure(classifyFailure(error));
  // cockatiel's own cancellation error says nothing; name the limit instead.
  const named = (error: unknown) => (error instanceof TaskCancelledError ? new AttemptTimeoutError(options.attemptTimeoutMs) : error);
  const lastFailure = () => {
    const last = breaker.lastFailure;
    return last && "error" in last ? named(last.error) : undefined;
  };

  const halfOpenDelay = new ReleasableDelayFactory(options.breakerRecoveryMs);
  let openedAt: number | null = null;

  const breaker = circuitBreaker(handleWhen(isConnection), {
    halfOpenAfter: halfOpenDelay,
    breaker: new ConsecutiveBreaker(options.breakerThreshold),
  });

  const retryPolicy = retry(
    handleWhen((error) => isConnection(error) && !isBrokenCircuitError(error)),
    {
      maxAttempts: options.retryDelaysMs.length,
      backoff: new IterableBackoff([...options.retryDelaysMs]),
    },
  );

  const attemptTimeout = timeout(options.attemptTimeoutMs, TimeoutStrategy.Aggressive);
  const maxConcurrent = options.maxConcurrent ?? Number.MAX_SAFE_INTEGER;
  const slots = bulkhead(maxConcurrent, options.maxQueued ?? maxConcurrent * 100);
  const policy = wrap(slots, retryPolicy, breaker, attemptTimeout);

  retryPolicy.onRetry((event) => {
    const cause = "error" in event ? classifyFailure(named(event.error)).cause : "unexpected result";
    emit({ type: "retry", attempt: event.attempt, delayMs: event.delay, cause });
  });

  breaker.onStateChange((circuit) => {
    const state = toBreakerState(circuit);
    if (state === "open") openedAt = now();
    if (state === "closed") openedAt = null;
    if (state !== "open") return emit({ type: "breaker_changed", state });
    const failure = lastFailure();
    const cause = failure === undefined ? "consecutive failures" : classifyFailure(failure).cause;
    emit({ type: "breaker_changed", state, cause, retryInMs: options.breakerRecoveryMs });
  });

  return {
    execute<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
      // A signal of its own per call: cockatiel would otherwise hang every call's listener on one
      // shared signal (MaxListenersExceededWarning under load).
      return policy.execute(async ({ signal }) => {
        try {
          return await fn(signal);
        } catch (error) {
          if (signal.aborted) throw new AttemptTimeoutError(options.attemptTimeoutMs);
          throw error;
        }
      }, new AbortController().signal).catch((error: unknown) => {
        if (isBrokenCircuitError(error as Error)) throw new BreakerOpenError(lastFailure());
        throw named(error);
      });
    },
    breakerState: () => toBreakerState(breaker.state),
    retryAt() {
      if (breaker.state !== CircuitState.Open || openedAt === null) return null;
      const wait = halfOpenDelay.current?.duration ?? options.breakerRecoveryMs;
      return new Date(Math.max(now(), openedAt + wait));
    },
    releaseBreaker() {
      if (breaker.state !== CircuitState.Open || !halfOpenDelay.current) return false;
      if (halfOpenDelay.current.duration === 0) return false;
      halfOpenDelay.current.release();
      emit({ type: "breaker_released", reason: "health check succeeded" });
      return true;
    },
  };
}
