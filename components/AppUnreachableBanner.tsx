"use client";

import { formatAgo, useNow } from "./time";

/** The browser cannot reach the dashboard server itself: a different failure from QuestDB down. */
export function AppUnreachableBanner({
  since,
  lastDataAt,
  testId = "app-unreachable-banner",
}: {
  since: number;
  lastDataAt: number | null;
  testId?: string;
}) {
  const now = useNow();
  return (
    <div className="banner banner-offline" role="status" aria-live="polite" data-testid={testId}>
      <strong>Dashboard server unreachable</strong>
      <span>
        {" "}
        — the browser got no answer {formatAgo(since, now)}; QuestDB may be fine.
        {lastDataAt !== null && ` Showing what arrived ${formatAgo(lastDataAt, now)}.`}
      </span>
    </div>
  );
}
