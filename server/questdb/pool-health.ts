import type { QuestdbEvent } from "./events";
import type { QuestdbPool } from "./pool";

/**
 * A hub subscriber: the pool's health (/api/health's lastSuccessAt, lastError, reachable) follows
 * how the queries ended, not only its own health checks. Failing fast (breaker open) or a full
 * queue says nothing new about QuestDB itself, so neither is noted. (Noted here rather than by the
 * resilient query, which only reports; the pool's own health check notes its own outcome.)
 */
export function notePoolHealth(pool: Pick<QuestdbPool, "noteSuccess" | "noteFailure">): (event: QuestdbEvent) => void {
  return (event) => {
    if (event.type === "query_succeeded") pool.noteSuccess(new Date(event.fetchedAt ?? Date.now()));
    if (event.type !== "query_failed") return;
    const { kind } = event.failure;
    if (kind !== "breaker_open" && kind !== "pool_busy") pool.noteFailure(event.message);
  };
}
