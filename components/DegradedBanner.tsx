"use client";

import { formatAgo, formatClock, formatDuration, useNow } from "./time";

export interface DegradedBannerProps {
  cachedAt: string;
  /** The failure in a few words, e.g. "connection refused (127.0.0.1:8812)". */
  cause: string;
  /** The whole message ("Failed to get active sessions: …"), shown on hover. */
  message: string;
  retryAt?: string;
  testId?: string;
}

export function DegradedBanner({ cachedAt, cause, message, retryAt, testId = "degraded-banner" }: DegradedBannerProps) {
  const now = useNow();
  const retryIn = retryAt ? new Date(retryAt).getTime() - now : null;
  return (
    <div className="banner banner-degraded" role="status" aria-live="polite" data-testid={testId}>
      <strong>
        Data as of{" "}
        <time dateTime={cachedAt} title={cachedAt} suppressHydrationWarning>
          {formatClock(cachedAt)}
        </time>{" "}
        <span suppressHydrationWarning>({formatAgo(cachedAt, now)})</span>
      </strong>
      <span className="banner-cause" title={message}>
        QuestDB unreachable: {cause || message}
      </span>
      {retryIn !== null && (
        <span className="banner-retry" suppressHydrationWarning>
          {retryIn > 500 ? `retrying in ${formatDuration(retryIn)}` : "retrying now"}
        </span>
      )}
    </div>
  );
}
