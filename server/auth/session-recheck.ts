import type { SessionUser } from "@/contract/viewer";
import type { ProviderTokens, SessionRecord } from "./session-record";

/**
 * When a session is asked about at the provider again, and what its answer means. The provider
 * decides who is in: an account removed from the allowed groups, disabled or signed out there is
 * out at the next check. A provider that does not answer changes nothing (an outage never locks
 * operators out) and is asked again soon.
 */

/** What the provider said about a session's account. */
export type RecheckOutcome =
  | { kind: "confirmed"; user: SessionUser; tokens: ProviderTokens }
  /** The provider refused the session's tokens: account disabled, grant revoked, signed out there. */
  | { kind: "refused"; why: string }
  /** No answer (down, timed out, 5xx): the session stays as it was. */
  | { kind: "unreachable"; why: string };

export type RecheckDecision = { kind: "keep"; record: SessionRecord } | { kind: "end"; why: string };

/** A provider that did not answer is asked again after this long (or the interval, if shorter). */
export const RECHECK_RETRY_MS = 60_000;

export function isRecheckDue(record: SessionRecord, nowMs: number, intervalMs: number): boolean {
  return nowMs - record.checkedAt >= intervalMs;
}

export function decideAfterRecheck(
  record: SessionRecord,
  outcome: RecheckOutcome,
  opts: { nowMs: number; intervalMs: number; allowed: (user: SessionUser) => boolean },
): RecheckDecision {
  switch (outcome.kind) {
    case "refused":
      return { kind: "end", why: `the provider refused the session: ${outcome.why}` };
    case "unreachable": {
      // Due again after the retry delay, not a whole interval: checkedAt moved back accordingly.
      const retryMs = Math.min(RECHECK_RETRY_MS, opts.intervalMs);
      return { kind: "keep", record: { ...record, checkedAt: opts.nowMs - opts.intervalMs + retryMs } };
    }
    case "confirmed": {
      if (outcome.user.sub !== record.user.sub)
        return { kind: "end", why: `the provider answered for another account (${outcome.user.sub})` };
      if (!opts.allowed(outcome.user)) {
        const groups = outcome.user.groups.join(", ") || "none";
        return { kind: "end", why: `no longer in an allowed group (groups now: ${groups})` };
      }
      return { kind: "keep", record: { ...record, ...outcome.tokens, user: outcome.user, checkedAt: opts.nowMs } };
    }
  }
}
