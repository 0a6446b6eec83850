"use client";

import { useNow } from "./clock";
import { formatAgo } from "./time";

/**
 * The browser cannot reach the dashboard server itself: a different failure from QuestDB down.
 * Not a live region (its ages tick); the state announcer says the change once.
 */
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
    <div className="banner banner-offline" data-testid={testId}>
      <strong>Dashboard server unreachable</strong>
      <span>
        {" "}
        — the browser got no answer {formatAgo(since, now)}; QuestDB may be fine.
        {lastDataAt !== null && ` Showing what arrived ${formatAgo(lastDataAt, now)}.`}
      </span>
    </div>
  );
}
