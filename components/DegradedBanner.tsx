"use client";

import { formatAgo, formatClock, formatDuration, useNow } from "./time";

export interface DegradedBannerProps {
  cachedAt: string;
  message: string;
  retryAt?: string;
  testId?: string;
}

/** The cause in a few words, from the union's message ("Failed to …: connection refused (…)"). */
function shortCause(message: string): string {
  const cause = message.replace(/^Failed to [^:]*:\s*/, "");
  return cause || message;
}

export function DegradedBanner({ cachedAt, message, retryAt, testId = "degraded-banner" }: DegradedBannerProps) {
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
        QuestDB unreachable: {shortCause(message)}
      </span>
      {retryIn !== null && (
        <span className="banner-retry" suppressHydrationWarning>
          {retryIn > 500 ? `retrying in ${formatDuration(retryIn)}` : "retrying now"}
        </span>
      )}
    </div>
  );
}
