import type { BreakerState, Resilient } from "@/contract/answer";

/**
 * The answers to "get active sessions" while QuestDB at 127.0.0.1:8812 refuses connections, as
 * the resilient query gives them and the page receives them: one wording for the tests of both.
 */

/** What a degraded and an error answer say about the refused connection. */
export const REFUSED_CONNECTION = {
  reason: "database_unavailable",
  message: "Failed to get active sessions: connection refused (127.0.0.1:8812)",
  cause: "connection refused (127.0.0.1:8812)",
} as const;

/** The error answer: nothing cached for the input, the breaker still closed. */
export const refusedError: Extract<Resilient<never>, { status: "error" }> = {
  status: "error",
  data: null,
  ...REFUSED_CONNECTION,
  breaker: "closed",
};

/** The degraded answer: `data` as cached at `cachedAt`. */
export function refusedDegraded<T>(data: T, cachedAt: string, breaker: BreakerState): Resilient<T> {
  return { status: "degraded", data, cachedAt, ...REFUSED_CONNECTION, breaker };
}
