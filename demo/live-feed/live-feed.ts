import { withDeadline } from "../../server/lib/with-deadline";
import { logEvent, type Logger } from "../../server/observability/logger";
import { describeError } from "../describe-error";
import { createOutageLog } from "./outage";
import { createSenderSlot } from "./sender";
import { LiveFeedWalk } from "./walk";

/**
 * A live feed into QuestDB. Every tick it writes a few trades per symbol (continuing the random
 * walk from the latest price) and one PnL event per running session, with ILP over HTTP.
 *
 * Built to outlive QuestDB outages: every failure is caught, logged once per outage (see
 * ./outage.ts), the feed keeps ticking and recovers by itself. A tick is skipped while the
 * previous one is still in flight, and the Sender's timeouts are shorter than a tick, so a frozen
 * QuestDB cannot pile up requests.
 */

export interface LiveFeedOptions {
  /** QuestDB's HTTP URL (ILP over HTTP and /exec for the few reads). */
  httpUrl: string;
  /** Time between ticks; default 1000 ms. */
  intervalMs?: number;
  log: Logger;
}

export interface LiveFeed {
  /** Stops ticking, waits for the tick in flight, closes the Sender. Never rejects. */
  stop(): Promise<void>;
}

/** The tick interval, and a request timeout shorter than a tick: a request to a frozen QuestDB gives up before the next tick is due. */
function feedTimings(intervalMs = 1000): { intervalMs: number; requestTimeoutMs: number } {
  const interval = Math.max(50, intervalMs);
  return { intervalMs: interval, requestTimeoutMs: Math.max(100, Math.min(2_000, Math.round(interval * 0.8))) };
}

/** Runs `runTick` every `intervalMs` (and once now), skipping a tick while the previous one is in flight. */
function startTicker(runTick: () => Promise<void>, intervalMs: number, log: Logger, onSkip: () => void) {
  let stopped = false;
  let inFlight: Promise<void> | null = null;

  function tick(): void {
    if (stopped) return;
    if (inFlight) {
      onSkip();
      logEvent(log, "debug", "feed.tick_skipped", { reason: "previous tick still in flight" });
      return;
    }
    inFlight = runTick()
      .catch((error: unknown) => {
        // runTick catches everything; this is the belt to its braces.
        logEvent(log, "error", "feed.tick_failed", { error: describeError(error) });
      })
      .finally(() => {
        inFlight = null;
      });
  }

  const timer = setInterval(tick, intervalMs);
  tick();
  return {
    /** No new tick starts; resolves when the one in flight has ended. */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await inFlight?.catch(() => {});
    },
  };
}

/** Starts the feed; the first tick runs right away. */
export function startLiveFeed(options: LiveFeedOptions): LiveFeed {
  const { log } = options;
  const httpUrl = options.httpUrl.replace(/\/+$/, "");
  const { intervalMs, requestTimeoutMs } = feedTimings(options.intervalMs);
  const walk = new LiveFeedWalk(httpUrl, requestTimeoutMs, log);
  const sender = createSenderSlot(httpUrl, requestTimeoutMs, log);
  const outage = createOutageLog(log, { httpUrl, intervalMs });
  let totals = { trades: 0, sessionEvents: 0 };

  // A safety net over the client's own timeouts: a tick must end.
  const bounded = <T>(work: Promise<T>, what: string) =>
    withDeadline(
      work,
      requestTimeoutMs + 1_000,
      () => new Error(`${what} did not finish within ${requestTimeoutMs + 1_000} ms`),
    );

  async function runTick(): Promise<void> {
    const nowUs = Date.now() * 1000;
    try {
      // Without QuestDB's state the walk continues from what it has (defaults at worst);
      // the write below tells whether QuestDB is really down.
      await walk
        .load()
        .catch((error: unknown) => logEvent(log, "debug", "feed.load_failed", { error: describeError(error) }));
      const target = await bounded(sender.get(), "creating the ILP sender");
      const rows = await walk.appendTick(target, nowUs);
      await bounded(target.flush(), "ILP flush");
      totals = { trades: totals.trades + rows.trades, sessionEvents: totals.sessionEvents + rows.sessionEvents };
      outage.noteSuccess();
    } catch (error) {
      await sender.drop();
      outage.noteFailure(error);
    } finally {
      walk.endTick(nowUs);
    }
  }

  logEvent(log, "info", "feed.started", { httpUrl, intervalMs, requestTimeoutMs });
  const ticker = startTicker(runTick, intervalMs, log, () => outage.noteSkippedTick());

  let stopping: Promise<void> | null = null;
  return {
    stop(): Promise<void> {
      stopping ??= (async () => {
        await ticker.stop();
        await sender.drop();
        logEvent(log, "info", "feed.stopped", { ...totals });
      })().catch(() => {});
      return stopping;
    },
  };
}
