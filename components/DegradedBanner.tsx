"use client";

import { formatAgo, formatClock, formatDuration, useNow } from "./time";

export interface DegradedBannerProps {
  cachedAt: string;
  /** Why the data is cached: QuestDB unreachable, this query slow, or the dashboard busy. */
  reason: "database_unavailable" | "query_slow" | "busy";
  /** The failure in a few words, e.g. "connection refused (127.0.0.1:8812)". */
  cause: string;
  /** The whole message ("Failed to get active sessions: …"), shown on hover. */
  message: string;
  retryAt?: string;
  testId?: string;
}

/** What the operator reads first: whose problem it is. */
const HEADLINE: Record<DegradedBannerProps["reason"], string> = {
  database_unavailable: "QuestDB unreachable",
  query_slow: "Slow query — showing cached data",
  busy: "Dashboard busy — showing cached data",
};

export function DegradedBanner({
  cachedAt,
  reason,
  cause,
  message,
  retryAt,
  testId = "degraded-banner",
}: DegradedBannerProps) {
  const now = useNow();
  const retryIn = retryAt ? new Date(retryAt).getTime() - now : null;
  return (
    <div className="banner banner-degraded" role="status" aria-live="polite" data-testid={testId} data-reason={reason}>
      <strong>
        Data as of{" "}
        <time dateTime={cachedAt} title={cachedAt} suppressHydrationWarning>
          {formatClock(cachedAt)}
        </time>{" "}
        <span suppressHydrationWarning>({formatAgo(cachedAt, now)})</span>
      </strong>
      <span className="banner-cause" title={message}>
        {HEADLINE[reason]}: {cause || message}
      </span>
      {retryIn !== null && (
        <span className="banner-retry" suppressHydrationWarning>
          {retryIn > 500 ? `retrying in ${formatDuration(retryIn)}` : "retrying now"}
        </span>
      )}
    </div>
  );
}
