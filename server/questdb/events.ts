import type { BreakerState, FailureReason } from "@/contract/answer";
import type { FailureInfo } from "./errors";

/**
 * What the parts of the QuestDB layer (pool, policy, resilient query) report, as typed events.
 * None of them logs, counts or reacts by itself: each is handed `emit`, the composition root's
 * event hub (server/event-hub.ts), whose subscribers do the rest — logs and metrics
 * (server/observability/questdb-events.ts), the health timeline, the early breaker release, the
 * pool's health, the fleet's breaker link.
 */
export type QuestdbEvent =
  // policy
  | { type: "retry"; attempt: number; delayMs: number; cause: string }
  | { type: "breaker_changed"; state: BreakerState; cause?: string; retryInMs?: number; fromFleet?: boolean }
  | { type: "breaker_released"; reason: string }
  | { type: "operation_breaker_changed"; operation: string; state: BreakerState; cause?: string }
  // pool
  | { type: "health_checked"; ok: true }
  | {
      type: "health_check_failed";
      answered: boolean;
      error: string;
      errorType: string;
      evicted: number;
      checked: number;
    }
  | { type: "idle_connection_lost"; error: string; errorType: string }
  // resilient query
  | { type: "query_started"; operation: string }
  | { type: "query_succeeded"; operation: string; seconds: number; fetchedAt?: number }
  | {
      type: "query_failed";
      operation: string;
      seconds: number;
      failure: FailureInfo;
      message: string;
      sql: string;
      stack?: string;
    }
  | { type: "single_flight_joined"; operation: string }
  | {
      type: "answered";
      operation: string;
      status: "ok" | "degraded" | "error";
      /** Why a degraded or error answer was not fresh. */
      reason?: FailureReason;
      fromCache?: "fresh" | "stale";
      ageSeconds?: number;
    };

export type EmitQuestdbEvent = (event: QuestdbEvent) => void;

/** For parts built on their own (tests, benchmarks): nothing listens. */
export const ignoreEvents: EmitQuestdbEvent = () => undefined;
