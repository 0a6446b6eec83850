import { round, sleep, spread } from "../../../harness/stats";
import { openSseViewers, type SseViewer } from "../../lib/sse-viewer";
import type { BenchContext } from "../../lib/types";
import { countFailure, phaseResult, type PhaseResult, quietWindow } from "./phase-result";
import { LIMIT, type Plan } from "./plan";
import { Sightings } from "./sightings";
import { graceUntilSeen, measureWindow } from "./window";
import { type Db, stopSessions } from "./writes";

/**
 * The SSE phase: `size` plain node:http streams subscribed to `sessions.onActive` (bench/lib/
 * sse-viewer.ts), one window while they watch; every stream that failed, ended or never gave a
 * first answer is a failure.
 */

/** Ten detector periods a hundred times over; the safety net's once-a-minute refresh may land in it. */
const QUIET_WINDOW_MS = 10_000;

function liveUrl(appUrl: string): string {
  return `${appUrl}/api/trpc/sessions.onActive?input=${encodeURIComponent(JSON.stringify({ limit: LIMIT }))}`;
}

function streamFailures(viewers: SseViewer[]): { failures: number; failureWhy: Record<string, number> } {
  const failureWhy: Record<string, number> = {};
  let failures = 0;
  for (const viewer of viewers) {
    const why = viewer.failure ?? (viewer.readyAt === null ? "no first answer within 30 s" : null);
    if (!why) continue;
    failures++;
    countFailure(failureWhy, why);
  }
  return { failures, failureWhy };
}

export async function ssePhase(ctx: BenchContext, db: Db, plan: Plan, size: number): Promise<PhaseResult> {
  const sightings = new Sightings(size, plan.writeOffsetsMs.length);
  const t = performance.now();
  let viewers: SseViewer[] = [];
  try {
    viewers = await openSseViewers(
      size,
      liveUrl(ctx.app.url),
      (data, at, viewer) => sightings.note(viewer.index, data, at),
      { batch: 200, timeoutMs: 30_000 },
    );
    const connectSeconds = round((performance.now() - t) / 1000, 2);
    await sleep(1_000);
    const window = await measureWindow(ctx, db, sightings, plan, `bench-sse-${size}`);
    const graceMs = await graceUntilSeen(sightings);
    // The same viewers, no writes: what watching costs QuestDB when nothing changes.
    const quietPlan = { ...plan, windowMs: QUIET_WINDOW_MS, writeOffsetsMs: [] };
    const quiet = await measureWindow(ctx, db, new Sightings(size, 0), quietPlan, `bench-sse-quiet-${size}`);
    const messages = spread(viewers.map((v) => v.messages));
    const pings = viewers.reduce((s, v) => s + v.pings, 0) / viewers.length;
    return {
      ...phaseResult("sse", window, sightings, { graceMs, ...streamFailures(viewers) }),
      sse: { quiet: quietWindow(quiet), connectSeconds, messagesPerViewer: messages, pingsPerViewer: round(pings, 1) },
    };
  } finally {
    for (const viewer of viewers) viewer.close();
    await stopSessions(db, sightings.writes);
  }
}
