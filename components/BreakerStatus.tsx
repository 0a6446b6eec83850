"use client";

import type { BreakerState } from "@/contract/answer";

const WORDS: Record<BreakerState, string> = {
  closed: "Closed — queries flow to QuestDB",
  open: "Open — failing fast, serving cached data",
  "half-open": "Half-open — probing QuestDB",
};

/** The circuit breaker's state in words and colour (never colour alone). */
export function BreakerStatus({ state }: { state: BreakerState | null }) {
  return (
    <span
      className={`breaker breaker-${state ?? "unknown"}`}
      data-testid="breaker-status"
      data-state={state ?? "unknown"}
    >
      {state ? WORDS[state] : "Unknown — dashboard server unreachable"}
    </span>
  );
}
