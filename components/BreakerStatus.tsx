"use client";

import type { BreakerState } from "@/contract/answer";

/** The breaker's name first (operators search logs for it), then what it means for the desk. */
const WORDS: Record<BreakerState, string> = {
  closed: "Closed (normal) — queries go to QuestDB",
  open: "Open (tripped) — QuestDB is not asked; cached data is served",
  "half-open": "Half-open — trying QuestDB again",
};

/** The circuit breaker's state in words and colour (never colour alone): a detail under the health summary. */
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
