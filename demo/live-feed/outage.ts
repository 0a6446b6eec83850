import { logEvent, type Logger } from "../../server/observability/logger";
import { describeError } from "../describe-error";

/** While QuestDB stays down, feed.write_failed is repeated at most this often. */
const DOWN_REMINDER_MS = 60_000;

/**
 * What the feed says about a QuestDB outage: feed.write_failed + feed.questdb_down once when it
 * starts, a reminder a minute while it lasts, feed.questdb_back when a tick succeeds again.
 */
export interface OutageLog {
  noteSkippedTick(): void;
  noteSuccess(): void;
  noteFailure(error: unknown): void;
}

export function createOutageLog(log: Logger, feed: { httpUrl: string; intervalMs: number }): OutageLog {
  let down: { since: number; failedTicks: number; lastLoggedAt: number } | null = null;
  let skippedTicks = 0;

  function remind(error: unknown, now: number, outage: NonNullable<typeof down>): void {
    outage.failedTicks++;
    if (now - outage.lastLoggedAt < DOWN_REMINDER_MS) return;
    outage.lastLoggedAt = now;
    logEvent(log, "warn", "feed.write_failed", {
      error: describeError(error),
      downMs: now - outage.since,
      failedTicks: outage.failedTicks,
      willRetry: true,
    });
  }

  return {
    noteSkippedTick() {
      skippedTicks++;
    },
    noteSuccess() {
      if (!down) return;
      logEvent(log, "info", "feed.questdb_back", {
        downMs: Date.now() - down.since,
        failedTicks: down.failedTicks,
        skippedTicks,
      });
      down = null;
      skippedTicks = 0;
    },
    noteFailure(error) {
      const now = Date.now();
      if (down) return remind(error, now, down);
      down = { since: now, failedTicks: 1, lastLoggedAt: now };
      logEvent(log, "warn", "feed.write_failed", { error: describeError(error), willRetry: true });
      logEvent(log, "warn", "feed.questdb_down", feed);
    },
  };
}
