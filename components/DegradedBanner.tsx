"use client";

import { useNow, useTimeZone } from "./clock";
import { formatAgo, formatClock, formatDuration } from "./time";

export interface DegradedBannerProps {
  cachedAt: string;
  /** Why the data is cached: QuestDB unreachable, this query slow, or the dashboard busy. */
  reason: "database_unavailable" | "query_slow" | "busy";
  /** The failure in a few words, e.g. "connection refused (127.0.0.1:8812)". */
  cause: string;
  /** The whole message ("Failed to get active sessions: …"), for whoever needs the operation too. */
  message: string;
  retryAt?: string;
  testId?: string;
}

/** What the operator reads first, in plain words: whose problem it is and what the page does about it. */
const HEADLINE: Record<DegradedBannerProps["reason"], string> = {
  database_unavailable: "QuestDB unreachable: the dashboard cannot get fresh data from its database",
  query_slow: "Slow query: QuestDB answers, but not this query in time",
  busy: "Dashboard busy: too many requests are waiting",
};

/** "next check in 5 s", or "checking now" once that time has come. */
export function nextCheckWords(retryAt: string, now: number): string {
  const retryIn = Date.parse(retryAt) - now;
  return retryIn > 500 ? `next check in ${formatDuration(retryIn)}` : "checking now";
}

/**
 * A panel shows cached data: since when (in the page's zone), why in plain words, the technical
 * cause on a line of its own, and when the next check is. Not a live region: its age and
 * countdown tick; the state announcer says once that the panel went stale.
 */
export function DegradedBanner({
  cachedAt,
  reason,
  cause,
  message,
  retryAt,
  testId = "degraded-banner",
}: DegradedBannerProps) {
  const now = useNow();
  const timeZone = useTimeZone();
  return (
    <div className="banner banner-degraded" data-testid={testId} data-reason={reason}>
      <strong>
        Data as of <time dateTime={cachedAt}>{formatClock(cachedAt, timeZone)}</time> ({formatAgo(cachedAt, now)})
      </strong>
      <span className="banner-plain">{HEADLINE[reason]}</span>
      <span className="banner-cause" title={message}>
        Technical cause: {cause || message}
        {retryAt && <span className="banner-retry"> · {nextCheckWords(retryAt, now)}</span>}
      </span>
    </div>
  );
}
