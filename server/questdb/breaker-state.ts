import { CircuitState, type CircuitBreakerPolicy } from "cockatiel";
import type { BreakerState } from "@/contract/answer";

/**
 * What this layer reads off a cockatiel breaker — its state in the contract's words, the failure
 * that opened it, when it opened — so no part keeps a copy of what cockatiel already holds.
 */

export function toBreakerState(state: CircuitState): BreakerState {
  switch (state) {
    case CircuitState.Closed:
      return "closed";
    case CircuitState.HalfOpen:
      return "half-open";
    default:
      return "open"; // Open, or Isolated (the fleet's hold)
  }
}

/** The error of the breaker's last failure (undefined when it has none, or its last was a result). */
export function lastFailureOf(breaker: CircuitBreakerPolicy): unknown {
  const last = breaker.lastFailure;
  return last && "error" in last ? last.error : undefined;
}

/**
 * When the breaker opened (epoch ms), while it is open; null otherwise. cockatiel keeps it in the
 * state `toJSON()` captures (meant for restoring a breaker): `ownState.openedAt` while Open.
 */
export function openedAtOf(breaker: CircuitBreakerPolicy): number | null {
  if (breaker.state !== CircuitState.Open) return null;
  const { ownState } = breaker.toJSON() as { ownState: { value: CircuitState; openedAt?: number } };
  return ownState.value === CircuitState.Open && typeof ownState.openedAt === "number" ? ownState.openedAt : null;
}
