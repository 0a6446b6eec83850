import type { QuestdbEvent } from "@/server/questdb/events";
import type { BreakerAnnouncement, SharedBreaker } from "./shared-breaker";

/**
 * Links this instance's endpoint breaker to the fleet's. When it opens here, the others are told.
 * When another instance says it opened, that is a hint, not an order: this instance first checks
 * QuestDB through its own link, once, and fails fast only if that fails too — so QuestDB down for
 * everyone spreads within a check (a refused connection: milliseconds), while one instance cut off
 * alone, announcing "open" after each failed probe, never keeps the healthy ones from serving.
 * The hold ends when the announcer says it closed, when this instance's own check or health check
 * succeeds (server/questdb/endpoint-breaker.ts), or when the announcement expires.
 * Only the instance that wins the probe claim sends the early half-open probe.
 */

/** What the link needs of this instance's endpoint breaker (server/questdb/policy.ts). */
export interface FollowingBreaker {
  /** Fail fast on another instance's word until released (or `maxMs`); returns the release. */
  isolate(fleet: { cause: string; retryAt?: number; maxMs: number }): () => void;
  retryAt(): Date | null;
}

export interface BreakerLinkOptions {
  recoveryMs: number;
  /** Whether QuestDB answers through this instance's own link (its health check): true, it does. */
  checkOwnLink: () => Promise<boolean>;
}

export interface BreakerLink {
  /** A hub subscriber: this instance's own breaker changes are announced. */
  onEvent(event: QuestdbEvent): void;
  /** Whether this instance should send the half-open probe now. */
  claimProbe(): Promise<boolean>;
  stop(): void;
}

export function linkBreaker(shared: SharedBreaker, policy: FollowingBreaker, options: BreakerLinkOptions): BreakerLink {
  // How long an "open" holds at most: the announcer's next probe, and some slack.
  const holdMs = options.recoveryMs + 5_000;
  // Each peer's standing "open", by instance; a "closed" from it removes it.
  const standing = new Map<string, BreakerAnnouncement>();
  let hold: { from: string; release: () => void } | null = null;
  let checking: Promise<boolean> | null = null;
  let stopped = false;

  const endHold = () => {
    hold?.release();
    hold = null;
  };
  // One check at a time: announcements heard meanwhile share its answer.
  const checkOnce = () =>
    (checking ??= options
      .checkOwnLink()
      .catch(() => false)
      .finally(() => (checking = null)));

  const follow = async (told: BreakerAnnouncement) => {
    if (told.state === "closed") {
      standing.delete(told.from);
      if (hold?.from === told.from) endHold();
      return;
    }
    standing.set(told.from, told);
    const ownLinkAnswers = await checkOnce();
    // Stopped, or the peer said "closed" meanwhile (a newer "open" from it is followed on its own).
    if (stopped || standing.get(told.from) !== told) return;
    if (ownLinkAnswers) return endHold();
    if (hold) return;
    hold = {
      from: told.from,
      release: policy.isolate({
        cause: told.cause ?? "circuit breaker open",
        retryAt: told.retryAt,
        maxMs: Math.min(told.ttlMs ?? holdMs, holdMs),
      }),
    };
  };

  const stopListening = shared.onAnnouncement((told) => void follow(told));
  // A late joiner learns what the fleet already knows (Redis drops it once expired).
  void shared.current().then((told) => {
    if (told?.state === "open") void follow(told);
  });

  return {
    onEvent(event) {
      if (event.type !== "breaker_changed") return;
      // Closed, whoever closed it (the hold expired, this instance's own health check): no hold left.
      if (event.state === "closed") hold = null;
      if (event.fromFleet) return;
      if (event.state === "open")
        void shared.announce("open", { retryAt: policy.retryAt()?.getTime(), cause: event.cause, ttlMs: holdMs });
      if (event.state === "closed") void shared.announce("closed");
    },
    claimProbe: () => shared.claimProbe(2_000),
    stop() {
      stopped = true;
      stopListening();
      endHold();
    },
  };
}
