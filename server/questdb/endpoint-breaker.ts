import {
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IBackoffFactory,
} from "cockatiel";
import type { BreakerState } from "@/contract/answer";
import { lastFailureOf, openedAtOf, toBreakerState } from "./breaker-state";
import {
  BreakerOpenError,
  FleetBreakerError,
  failureOf,
  toClassifiedError,
  traitsOf,
  type ClassifiedError,
} from "./errors";
import type { EmitQuestdbEvent } from "./events";

/**
 * The breaker of one QuestDB endpoint: it counts connection failures only (5 in a row → open 30 s
 * → one probe); a successful health check may end its wait early (`release`); another instance of
 * the fleet may hold it open (`isolate`), and this instance's own successful health check ends that
 * hold at once (`release` again): a peer's word never outweighs this instance's own link. Its state
 * and open time are cockatiel's, read, not copied.
 */

export interface EndpointBreakerOptions {
  threshold: number;
  recoveryMs: number;
  /** Names the endpoint in the failure it raises when open. */
  endpoint?: string;
  emit: EmitQuestdbEvent;
  now: () => number;
}

export interface EndpointBreaker {
  readonly breaker: CircuitBreakerPolicy;
  state(): BreakerState;
  /** When the next probe may go through, while open (the fleet's word first). */
  retryAt(): Date | null;
  /** The failure to throw while it is open: classified here, where it is raised. */
  openFailure(): ClassifiedError;
  /**
   * This instance's health check saw QuestDB answer. Open: the next call probes now (true). Held by
   * the fleet: the hold ends, closed at once (false: nothing left to probe).
   */
  release(): boolean;
  isolate(fleet: { cause: string; retryAt?: number; maxMs: number }): () => void;
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

export function createEndpointBreaker(options: EndpointBreakerOptions): EndpointBreaker {
  const { emit, now } = options;
  const halfOpenDelay = new ReleasableDelayFactory(options.recoveryMs);
  // Connection failures only: QuestDB unreachable (or refusing us).
  const breaker = circuitBreaker(
    handleWhen((error) => traitsOf(failureOf(error)).counts === "endpoint"),
    {
      halfOpenAfter: halfOpenDelay,
      breaker: new ConsecutiveBreaker(options.threshold),
    },
  );
  // Another instance's word while it holds this breaker open; null while this instance decides.
  let fleet: FleetHold | null = null;
  breaker.onStateChange((circuit) => {
    const state = toBreakerState(circuit);
    if (circuit === CircuitState.Isolated)
      return emit({ type: "breaker_changed", state, cause: fleet?.cause, fromFleet: true });
    if (state !== "open") return emit({ type: "breaker_changed", state, ...(fleet ? { fromFleet: true } : {}) });
    const failure = lastFailureOf(breaker);
    const cause = failure === undefined ? "consecutive failures" : failureOf(failure).cause;
    emit({ type: "breaker_changed", state, cause, retryInMs: options.recoveryMs });
  });

  return {
    breaker,
    state: () => toBreakerState(breaker.state),
    retryAt() {
      if (fleet?.retryAt) return new Date(Math.max(now(), fleet.retryAt));
      const openedAt = openedAtOf(breaker);
      if (openedAt === null) return null;
      return new Date(Math.max(now(), openedAt + (halfOpenDelay.current?.duration ?? options.recoveryMs)));
    },
    openFailure: () =>
      toClassifiedError(new BreakerOpenError(fleet ? new FleetBreakerError(fleet.cause) : lastFailureOf(breaker)), {
        endpoint: options.endpoint,
      }),
    release() {
      if (fleet) {
        fleet.end();
        emit({ type: "breaker_released", reason: "own health check succeeded" });
        return false;
      }
      if (breaker.state !== CircuitState.Open || !halfOpenDelay.current) return false;
      if (halfOpenDelay.current.duration === 0) return false;
      halfOpenDelay.current.release();
      emit({ type: "breaker_released", reason: "health check succeeded" });
      return true;
    },
    isolate(told) {
      if (fleet || breaker.state !== CircuitState.Closed) return () => undefined;
      const hold: FleetHold = { cause: told.cause, retryAt: told.retryAt, end: () => undefined };
      fleet = hold;
      hold.end = isolateFor(breaker, told.maxMs, () => {
        if (fleet === hold) fleet = null;
      });
      return hold.end;
    },
  };
}

/** The fleet's hold on this breaker: whose word, and the way to end it (once; later calls do nothing). */
interface FleetHold {
  cause: string;
  retryAt?: number;
  end: () => void;
}

/** Holds `breaker` open until the returned release is called, or for `maxMs` at most. */
function isolateFor(breaker: CircuitBreakerPolicy, maxMs: number, onRelease: () => void): () => void {
  const handle = breaker.isolate();
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
