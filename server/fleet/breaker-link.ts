import type { QuestdbEvent } from "@/server/questdb/events";
import type { BreakerAnnouncement, SharedBreaker } from "./shared-breaker";

/**
 * Links this instance's endpoint breaker to the fleet's: when it opens here, the others are told
 * (and fail fast within a second); when another instance says it opened, this one fails fast too
 * until told it closed — or, should that word never come, for the recovery time plus some slack.
 * Only the instance that wins the probe claim sends the early half-open probe.
 */

/** What the link needs of this instance's endpoint breaker (server/questdb/policy.ts). */
export interface FollowingBreaker {
  /** Fail fast on another instance's word until released (or `maxMs`); returns the release. */
  isolate(fleet: { cause: string; retryAt?: number; maxMs: number }): () => void;
  retryAt(): Date | null;
}

export interface BreakerLink {
  /** A hub subscriber: this instance's own breaker changes are announced. */
  onEvent(event: QuestdbEvent): void;
  /** Whether this instance should send the half-open probe now. */
  claimProbe(): Promise<boolean>;
  stop(): void;
}

export function linkBreaker(
  shared: SharedBreaker,
  policy: FollowingBreaker,
  options: { recoveryMs: number; now?: () => number },
): BreakerLink {
  const now = options.now ?? Date.now;
  let release: (() => void) | null = null;

  const follow = (told: BreakerAnnouncement) => {
    if (told.state === "closed") {
      release?.();
      release = null;
      return;
    }
    // Stale word (an announcer that died long ago) is not followed.
    if (now() - told.at > options.recoveryMs) return;
    release?.();
    release = policy.isolate({
      cause: told.cause ?? "circuit breaker open",
      retryAt: told.retryAt,
      maxMs: options.recoveryMs + 5_000,
    });
  };

  const stopListening = shared.onAnnouncement(follow);
  // A late joiner learns what the fleet already knows.
  void shared.current().then((told) => told && told.state === "open" && follow(told));

  return {
    onEvent(event) {
      if (event.type !== "breaker_changed" || event.fromFleet) return;
      if (event.state === "open")
        void shared.announce("open", { retryAt: policy.retryAt()?.getTime(), cause: event.cause });
      if (event.state === "closed") void shared.announce("closed");
    },
    claimProbe: () => shared.claimProbe(2_000),
    stop() {
      stopListening();
      release?.();
    },
  };
}
