import type { QuestdbEvent } from "./events";
import type { QuestdbPolicy } from "./policy";

/**
 * A hub subscriber: once a health check sees QuestDB answer again, the endpoint breaker probes at
 * once instead of after its full recovery time, and without waiting for a caller, so it closes
 * even when nobody is polling. In a fleet, only the instance that wins the probe claim probes.
 */

export interface EarlyReleaseDeps {
  policy: Pick<QuestdbPolicy, "releaseBreaker" | "execute">;
  /** One `SELECT 1` on the pool. */
  probe: () => Promise<unknown>;
  /** Fleet mode: whether this instance sends the probe (default: it does). */
  claimProbe?: () => Promise<boolean>;
}

export function earlyBreakerRelease(deps: EarlyReleaseDeps): (event: QuestdbEvent) => void {
  return (event) => {
    const answered = event.type === "health_checked" || (event.type === "health_check_failed" && event.answered);
    if (!answered || !deps.policy.releaseBreaker()) return;
    void (async () => {
      if (deps.claimProbe && !(await deps.claimProbe())) return;
      await deps.policy.execute("health.probe", deps.probe).catch(() => undefined);
    })();
  };
}
