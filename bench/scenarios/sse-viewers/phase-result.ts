import { percentile, round } from "../../../harness/stats";
import type { Mode } from "./plan";
import type { DelaySplit, PerWrite, Sightings, WriteRecord } from "./sightings";
import type { Window } from "./window";

/** What one phase (N viewers of one mode, one window) found: the shape details.sseViewers.phases holds. */

export interface PhaseResult {
  mode: Mode;
  viewers: number;
  window: Omit<Window, "startedAt" | "endedAt">;
  writes: WriteRecord[];
  delayMs: { p50: number; p99: number; min: number; max: number; sightings: number } | null;
  delaySplit: DelaySplit;
  perWrite: PerWrite[];
  /** (viewer, write) pairs never seen by the end of the grace period. */
  missed: number;
  viewersWithNoUpdate: number;
  /** SSE: streams that failed, ended or never delivered a first answer; polling: polls that failed or were not ok. */
  failures: number;
  failureWhy: Record<string, number>;
  graceMs: number;
  sse?: {
    /**
     * A window with no writes at all, after the measured one: QuestDB's full queries (should be ≈ 0:
     * only the safety net's once a minute), the detector's own, and the CPU of the app and QuestDB.
     */
    quiet: QuietWindow;
    connectSeconds: number;
    messagesPerViewer: { min: number; median: number; max: number };
    pingsPerViewer: number;
  };
  /** Polls are counted when they end; a failed one may have been asked up to POLL_TIMEOUT_MS before. */
  polling?: {
    polls: number;
    pollsInWindow: number;
    pollsPerSecond: number;
    failuresInWindow: number;
    failuresBeforeWindow: number;
  };
}

export interface QuietWindow {
  seconds: number;
  queriesPerSecond: number | null;
  detectorPerSecond: number | null;
  appCpuPercent: number;
  questdbCpuPercent: number;
}

/** The quiet window's figures from a window measured with no writes. */
export function quietWindow(window: Window): QuietWindow {
  return {
    seconds: window.seconds,
    queriesPerSecond: window.queries.perSecond,
    detectorPerSecond: window.queries.detectorPerSecond,
    appCpuPercent: window.appCpuPercent,
    questdbCpuPercent: window.questdbCpuPercent,
  };
}

/** Counts one more failure under its reason. */
export function countFailure(failureWhy: Record<string, number>, why: string, n = 1): void {
  failureWhy[why] = (failureWhy[why] ?? 0) + n;
}

function delayStats(delays: number[]): PhaseResult["delayMs"] {
  if (!delays.length) return null;
  return {
    p50: round(percentile(delays, 50), 1),
    p99: round(percentile(delays, 99), 1),
    min: round(
      delays.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY),
      1,
    ),
    max: round(
      delays.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY),
      1,
    ),
    sightings: delays.length,
  };
}

/** The phase's result from its window and sightings; failed writes count as failures too. */
export function phaseResult(
  mode: Mode,
  window: Window,
  sightings: Sightings,
  outcome: { graceMs: number; failures: number; failureWhy: Record<string, number> },
): PhaseResult {
  const { delays, missed, viewersWithNoUpdate, perWrite, split } = sightings.summary();
  const { startedAt: _s, endedAt: _e, ...shown } = window;
  const { failureWhy } = outcome;
  for (const write of sightings.writes) if (write.error) countFailure(failureWhy, `write failed: ${write.error}`);
  return {
    mode,
    viewers: sightings.viewers,
    window: shown,
    writes: sightings.writes.map((w) => ({
      ...w,
      committedAt: w.committedAt === null ? null : round(w.committedAt - window.startedAt, 1),
    })),
    delayMs: delayStats(delays),
    delaySplit: split,
    perWrite,
    missed,
    viewersWithNoUpdate,
    failures: outcome.failures + sightings.writes.filter((w) => w.error).length,
    failureWhy,
    graceMs: outcome.graceMs,
  };
}
