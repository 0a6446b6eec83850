import os from "node:os";
import { fmt, round, spread } from "../../../harness/stats";
import { parseEnv } from "../../../server/env";
import { failedFigure } from "../../lib/report";
import type { FigureResult, FigureSpec } from "../../lib/types";
import type { PhaseResult } from "./phase-result";
import { GRACE_MS, LIMIT, type Mode, POLL_INTERVAL_MS, type Plan, headlineSizes } from "./plan";
import { phaseTableLines } from "./report-table";

/**
 * The sseViewers figures from its phases: update delays at one size, CPU and queries at the
 * largest, each beside the polling viewers of the same size; the whole grid in details.sseViewers.
 */

export type SseKey =
  | "sseUpdateDelayP50Ms"
  | "sseUpdateDelayP99Ms"
  | "sseQueriesPerSecond"
  | "sseCpuPercent"
  | "sseFanoutUsPerStream"
  | "sseQuietQueriesPerSecond";

const METHOD = {
  text:
    "on the one app instance " +
    `(LIVE_CHECK_INTERVAL_MS ${fmt(parseEnv({}).LIVE_CHECK_INTERVAL_MS)}, LIVE_INTERVAL_MS ${fmt(parseEnv({}).LIVE_INTERVAL_MS)}), for 100, 500 and 2,000 viewers: first that many ` +
    "plain node:http streams subscribed to `sessions.onActive` (SSE parsed by the client, no reconnection), then " +
    "as many viewers polling `sessions.active` every 2 s at their own phase (limit 100 both). Over a 20 s window " +
    "after all are connected: new running sessions are inserted into `session_events` (8 writes, 2.3 s apart) and " +
    "each viewer's delay is measured from the INSERT's acknowledgement to its first event / poll answer naming the " +
    "session (p50 and p99 over every viewer and write), split at the `fetchedAt` of that answer (write → the " +
    "server's query, that query → the viewer); app CPU (utime + stime of its process tree, % of one core) and RSS " +
    'from /proc; QuestDB queries per second from `questdb_queries_started_total{operation="sessions.active"}`. ' +
    "Delays, CPU, queries and fan-out at 2,000; the baseline column is the polling viewers. The viewers run " +
    "in the benchmark's own process on the same cores (its CPU is reported too); failed streams or polls and " +
    "viewers that saw no write are counted (SSE must have none). sseFanoutUsPerStream: per write, the time " +
    "from its first to its last viewer (the fan-out as the viewers see it, their own parsing on the same cores " +
    "included) ÷ viewers, median over the writes, at the largest size. QuestDB's full queries/s are shown " +
    "beside the change detector's own queries/s (`live.changes`) and QuestDB's CPU from /proc. " +
    "sseQuietQueriesPerSecond: after the measured window, the same SSE viewers for 10 s with no writes at all; " +
    "QuestDB's full queries/s from the same counter (the detector's own beside it), at the largest size.",
};

const spec = <K extends SseKey>(key: K, unit: string, max?: number): FigureSpec<K> => ({
  key,
  unit,
  goal: max === undefined ? null : { max, text: `≤ ${fmt(max)}` },
  method: METHOD,
});
/** Goals from the contract (issue 22): at 2,000 viewers, one write a second. */
export const SSE_FIGURES = [
  spec("sseUpdateDelayP50Ms", "ms", 150),
  spec("sseUpdateDelayP99Ms", "ms", 500),
  spec("sseQueriesPerSecond", "queries/s"),
  spec("sseCpuPercent", "% of one core", 25),
  spec("sseFanoutUsPerStream", "µs", 50),
  // "≈ 0": the safety net's one full query a minute is 0.017/s; a loop still polling once a second is 1.
  spec("sseQuietQueriesPerSecond", "queries/s", 0.1),
];

/** Per write: first to last viewer ÷ viewers (µs), the median over the writes; null without sightings. */
export function fanoutUsPerStream(phase: PhaseResult | undefined): number | null {
  const perStream = (phase?.perWrite ?? [])
    .filter((w) => w.spreadMs !== null && w.seenBy > 1)
    .map((w) => (w.spreadMs! * 1000) / w.seenBy)
    .sort((a, b) => a - b);
  return perStream.length ? round(perStream[Math.floor(perStream.length / 2)]!, 1) : null;
}

export interface PhaseError {
  mode: Mode;
  viewers: number;
  error: string;
}

/** One phase in a line, for the progress output and the notes. */
export function describePhase(phase: PhaseResult): string {
  const d = phase.delayMs;
  const { fetchLagMs, deliveryMs } = phase.delaySplit;
  const { window } = phase;
  const ms = (v: number | undefined) => (v === undefined ? "—" : fmt(v));
  const perSecond = window.queries.perSecond === null ? `? (${window.queries.error})` : fmt(window.queries.perSecond);
  return (
    `${phase.mode} × ${fmt(phase.viewers)}: delay p50 ${ms(d?.p50)} / p99 ${ms(d?.p99)} ms ` +
    `(write → fetch p50 ${ms(fetchLagMs?.p50)} ms, fetch → viewer p50 ${ms(deliveryMs?.p50)} / p99 ` +
    `${ms(deliveryMs?.p99)} ms), app CPU ${fmt(window.appCpuPercent)} %, RSS ${fmt(window.appRssMb.max)} MB, ` +
    `${perSecond} queries/s (QuestDB log ${fmt(window.queries.questdbLoggedPerSecond)}/s; detector ` +
    `${ms(window.queries.detectorPerSecond ?? undefined)}/s), QuestDB CPU ${fmt(window.questdbCpuPercent)} %, ` +
    `fan-out ${ms(fanoutUsPerStream(phase) ?? undefined)} µs/stream, ` +
    (phase.sse ? `no writes: ${ms(phase.sse.quiet.queriesPerSecond ?? undefined)} full queries/s, ` : "") +
    `bench CPU ${fmt(window.benchCpuPercent)} %, ${phase.failures} failures, ` +
    `${phase.viewersWithNoUpdate} viewers without an update, ${phase.missed} missed`
  );
}

const hasProblems = (p: PhaseResult) => p.failures > 0 || p.viewersWithNoUpdate > 0 || p.missed > 0;

function notesOf(phases: PhaseResult[], phaseErrors: PhaseError[]): string[] {
  const polling = (p: PhaseResult) =>
    `sseViewers (polling side): ${fmt(p.failures)} of ${fmt(p.polling?.polls ?? 0)} polls of ${fmt(p.viewers)} ` +
    `viewers failed (${fmt(p.polling?.failuresInWindow ?? 0)} in the window) — ${JSON.stringify(p.failureWhy)}; ` +
    `past what the app can serve, its delay, CPU and queries/s are an overloaded app's. ${describePhase(p)}`;
  return [
    ...phaseErrors.map(
      (e) => `sseViewers: the ${e.mode} phase with ${fmt(e.viewers)} viewers failed: ${e.error.split("\n")[0]}`,
    ),
    ...phases
      .filter((p) => p.mode === "sse" && hasProblems(p))
      .map((p) => `sseViewers: ${describePhase(p)} — ${JSON.stringify(p.failureWhy)}`),
    ...phases.filter((p) => p.mode === "polling" && hasProblems(p)).map(polling),
    `sseViewers: the viewers run in the benchmark's own Node process on the same ${os.cpus().length} cores as the ` +
      "app and QuestDB (bench CPU beside app CPU in details.sseViewers); one window per size and mode, so expect " +
      "noise from a shared machine.",
  ];
}

/** Why the SSE side failed (streams failed, updates missed, a phase threw), or undefined. */
function sseError(phases: PhaseResult[], phaseErrors: PhaseError[]): string | undefined {
  const failures = [
    ...phases
      .filter((p) => p.mode === "sse" && hasProblems(p))
      .map(
        (p) => `${fmt(p.viewers)}: ${p.failures} failures, ${p.viewersWithNoUpdate} without update, ${p.missed} missed`,
      ),
    ...phaseErrors.filter((e) => e.mode === "sse").map((e) => `${fmt(e.viewers)}: ${e.error.split("\n")[0]}`),
  ];
  return failures.length ? `SSE viewers failed or missed updates: ${failures.join("; ")}` : undefined;
}

/** details.sseViewers: how it was measured, and every phase. */
function scenarioDetails(plan: Plan, liveIntervalMs: number, phases: PhaseResult[], phaseErrors: PhaseError[]) {
  return {
    liveIntervalMs,
    pollIntervalMs: POLL_INTERVAL_MS,
    limit: LIMIT,
    windowMs: plan.windowMs,
    writeOffsetsMs: plan.writeOffsetsMs,
    graceMs: GRACE_MS,
    delayFrom:
      "the INSERT's acknowledgement (pg) of a new running session to the first SSE data event / poll answer " +
      "naming it, per viewer",
    cpu: "utime + stime of the app's process tree (/proc/<pid>/stat) over the window, % of one core",
    queries:
      'questdb_queries_started_total{operation="sessions.active"} at GET /api/metrics at the window\'s start and ' +
      "end, over the time between the two answers; QuestDB's `QueryProgress exe` log lines of the app's SQL in " +
      "the window beside it",
    phases,
    phaseErrors,
  };
}

/** One figure: the SSE viewers' value beside the polling viewers' of the same size. */
interface Measured {
  key: SseKey;
  ours: number | null;
  theirs: number | null;
  size: number;
  display(v: number): string;
}

function figure(m: Measured, windowText: string, details: Record<string, unknown>): FigureResult {
  const { ours, theirs } = m;
  if (ours === null) return { ...failedFigure(m.key, "not measured (see details.sseViewers)"), details };
  return {
    value: ours,
    runs: [ours],
    spread: spread([ours]),
    runsLabel: `1 × ${windowText}, ${fmt(m.size)} viewers`,
    display: m.display(ours),
    baseline: {
      value: theirs,
      display: theirs === null ? "—" : `polling: ${m.display(theirs)}`,
      what: `${fmt(m.size)} viewers polling sessions.active every 2 s`,
      runs: theirs === null ? [] : [theirs],
    },
    ratio: theirs ? round(ours / theirs, 3) : null,
    ratioDisplay: theirs ? (ours / theirs).toFixed(3) : "—",
    details,
  };
}

/** The figures' values, each at its headline size. */
function measuredValues(plan: Plan, phases: PhaseResult[]): Measured[] {
  const { delaySize, loadSize } = headlineSizes(plan);
  const at = (mode: Mode, size: number) => phases.find((p) => p.mode === mode && p.viewers === size);
  const [sseD, pollD, sseL, pollL] = [
    at("sse", delaySize),
    at("polling", delaySize),
    at("sse", loadSize),
    at("polling", loadSize),
  ];
  const ms = (v: number) => `${fmt(v)} ms`;
  return [
    {
      key: "sseUpdateDelayP50Ms",
      ours: sseD?.delayMs?.p50 ?? null,
      theirs: pollD?.delayMs?.p50 ?? null,
      size: delaySize,
      display: ms,
    },
    {
      key: "sseUpdateDelayP99Ms",
      ours: sseD?.delayMs?.p99 ?? null,
      theirs: pollD?.delayMs?.p99 ?? null,
      size: delaySize,
      display: ms,
    },
    {
      key: "sseQueriesPerSecond",
      ours: sseL?.window.queries.perSecond ?? null,
      theirs: pollL?.window.queries.perSecond ?? null,
      size: loadSize,
      display: (v) => fmt(v),
    },
    {
      key: "sseCpuPercent",
      ours: sseL?.window.appCpuPercent ?? null,
      theirs: pollL?.window.appCpuPercent ?? null,
      size: loadSize,
      display: (v) => `${fmt(v)} %`,
    },
    {
      key: "sseFanoutUsPerStream",
      ours: fanoutUsPerStream(sseL),
      theirs: null,
      size: loadSize,
      display: (v) => `${fmt(v)} µs`,
    },
    {
      key: "sseQuietQueriesPerSecond",
      ours: sseL?.sse?.quiet.queriesPerSecond ?? null,
      theirs: null,
      size: loadSize,
      display: (v) => fmt(v),
    },
  ];
}

/** A figure's own details: both sides at its size, the whole grid named. */
function figureDetails(phases: PhaseResult[], size: number): Record<string, unknown> {
  const pick = (mode: Mode) => {
    const p = phases.find((phase) => phase.mode === mode && phase.viewers === size);
    if (!p) return null;
    const { delayMs, failures, viewers } = p;
    return {
      viewers,
      delayMs,
      appCpuPercent: p.window.appCpuPercent,
      queriesPerSecond: p.window.queries.perSecond,
      failures,
    };
  };
  return { viewers: size, sse: pick("sse"), polling: pick("polling"), all: "details.sseViewers" };
}

export function sseFigures(
  plan: Plan,
  liveIntervalMs: number,
  phases: PhaseResult[],
  phaseErrors: PhaseError[],
): Record<SseKey, FigureResult> {
  const windowText = `${plan.windowMs / 1000} s window, ${plan.writeOffsetsMs.length} writes`;
  const [p50, p99, qps, cpu, fanout, quiet] = measuredValues(plan, phases).map((m) =>
    figure(m, windowText, figureDetails(phases, m.size)),
  ) as [FigureResult, FigureResult, FigureResult, FigureResult, FigureResult, FigureResult];
  p50.reportDetails = { sseViewers: scenarioDetails(plan, liveIntervalMs, phases, phaseErrors) };
  p50.notes = notesOf(phases, phaseErrors);
  p50.markdown = phaseTableLines(phases);
  const figures = {
    sseUpdateDelayP50Ms: p50,
    sseUpdateDelayP99Ms: p99,
    sseQueriesPerSecond: qps,
    sseCpuPercent: cpu,
    sseFanoutUsPerStream: fanout,
    sseQuietQueriesPerSecond: quiet,
  };
  const error = sseError(phases, phaseErrors);
  if (error) for (const [key, f] of Object.entries(figures)) f.error = `${key}: ${error}`;
  return figures;
}
