import { round, sleep } from "../../../harness/stats";
import { sessionsUrl } from "../../lib/app-client";
import { closeViewerSockets, getText } from "../../lib/sse-viewer";
import type { BenchContext } from "../../lib/types";
import { pollAsViewers, type ViewerPolls } from "../../lib/viewer-poller";
import { countFailure, phaseResult, type PhaseResult } from "./phase-result";
import { GRACE_MS, LIMIT, POLL_INTERVAL_MS, POLL_TIMEOUT_MS, POLL_WARM_UP_MS, type Plan } from "./plan";
import { Sightings } from "./sightings";
import { graceUntilSeen, measureWindow, type Window } from "./window";
import { type Db, stopSessions } from "./writes";

/**
 * The polling phase: `size` viewers polling `sessions.active` every 2 s (bench/lib/viewer-poller.ts,
 * one poller per viewer so each has its own phase and identity), warmed up before the window and
 * polling on through the grace period; a failed or not-ok poll is a failure.
 */

/** When polls ended, and which of them failed, on performance.now()'s time line. */
interface PollTimes {
  answeredAt: number[];
  failedAt: number[];
}

/** One viewer's poll: what it saw goes to the sightings; the answer's status, or why it failed. */
function pollOnce(url: string, viewer: number, sightings: Sightings, times: PollTimes) {
  return async (): Promise<string | null> => {
    const answer = await getText(url, POLL_TIMEOUT_MS);
    times.answeredAt.push(answer.endedAt);
    if (answer.status !== 200) {
      times.failedAt.push(answer.endedAt);
      return `http_${answer.status}: ${answer.error ?? answer.body.slice(0, 200)}`;
    }
    sightings.note(viewer, answer.body, answer.endedAt);
    // The envelope's first "status" is the answer's (a session has no such field).
    const status = /"status":"(\w+)"/.exec(answer.body)?.[1] ?? "unreadable";
    if (status !== "ok") times.failedAt.push(answer.endedAt);
    return status === "ok" ? null : status;
  };
}

function pollCounts(runs: ViewerPolls[], times: PollTimes, window: Window) {
  const failureWhy: Record<string, number> = {};
  for (const run of runs) for (const [why, n] of Object.entries(run.notOkWhy)) countFailure(failureWhy, why, n);
  const inWindow = (at: number) => at >= window.startedAt && at <= window.endedAt;
  const pollsInWindow = times.answeredAt.filter(inWindow).length;
  return {
    failures: runs.reduce((s, r) => s + r.notOk, 0),
    failureWhy,
    polling: {
      polls: runs.reduce((s, r) => s + r.polls, 0),
      pollsInWindow,
      pollsPerSecond: round(pollsInWindow / window.seconds, 1),
      failuresInWindow: times.failedAt.filter(inWindow).length,
      failuresBeforeWindow: times.failedAt.filter((at) => at < window.startedAt).length,
    },
  };
}

export async function pollingPhase(ctx: BenchContext, db: Db, plan: Plan, size: number): Promise<PhaseResult> {
  const sightings = new Sightings(size, plan.writeOffsetsMs.length);
  const url = sessionsUrl(ctx.app.url, LIMIT);
  const times: PollTimes = { answeredAt: [], failedAt: [] };
  const durationMs = POLL_WARM_UP_MS + plan.windowMs + GRACE_MS;
  try {
    const polling = Promise.all(
      Array.from({ length: size }, (_, viewer) =>
        pollAsViewers(1, POLL_INTERVAL_MS, durationMs, pollOnce(url, viewer, sightings, times)),
      ),
    );
    await sleep(POLL_WARM_UP_MS);
    const window = await measureWindow(ctx, db, sightings, plan, `bench-poll-${size}`);
    const graceMs = await graceUntilSeen(sightings);
    const { failures, failureWhy, polling: counts } = pollCounts(await polling, times, window);
    return { ...phaseResult("polling", window, sightings, { graceMs, failures, failureWhy }), polling: counts };
  } finally {
    closeViewerSockets();
    await stopSessions(db, sightings.writes);
  }
}
