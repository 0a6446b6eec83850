import { percentile } from "../harness/stats";
import type { LogScan } from "./app-log";
import { DATA_PROCEDURES, type ClientStats } from "./clients";
import type { Options } from "./options";
import type { Sample, Samples } from "./samplers";
import type { ChaosSchedule } from "./schedule";

/** Everything one soak saw, and the figures the checks, the report and the summary are made of. */

export interface SoakRun {
  options: Options;
  poolMax: number;
  build: "reused" | "built";
  startedAtIso: string;
  finishedAt: number;
  seeded: { trades: number; sessionEvents: number };
  app: { pid: number; alive: boolean; exit: unknown };
  stats: ClientStats;
  schedule: ChaosSchedule;
  chaosEnd: number;
  restartDoneAt: number;
  recovery: NonNullable<ClientStats["recovery"]>;
  samples: Samples;
  rssEndKb: number | null;
  logScan: LogScan;
}

export const mb = (kb: number | null | undefined) =>
  kb === null || kb === undefined ? null : Math.round(kb / 102.4) / 10;

export type Figures = ReturnType<typeof figuresOf>;

export function figuresOf(run: SoakRun) {
  const { stats } = run;
  const chaosS = (run.chaosEnd - run.schedule.chaosStart) / 1000;
  const latency = (p: number) => (stats.durationsMs.length ? percentile(stats.durationsMs, p) : 0);
  const recoveryMs = Object.fromEntries(
    DATA_PROCEDURES.map((p) => [
      p,
      run.recovery.firstOk[p] === null ? null : run.recovery.firstOk[p]! - run.restartDoneAt,
    ]),
  ) as Record<string, number | null>;
  const recoveryMax = Object.values(recoveryMs).some((v) => v === null)
    ? null
    : Math.max(...(Object.values(recoveryMs) as number[]));
  const countHttp = (include: (status: string) => boolean) =>
    Object.entries(stats.byHttpStatus)
      .filter(([status]) => include(status))
      .reduce((sum, [, n]) => sum + n, 0);
  const is5xx = (status: string) => /^5\d\d$/.test(status);
  return {
    chaosS,
    latencyMs: { p50: latency(50), p95: latency(95), p99: latency(99) },
    ...memoryFigures(run, chaosS),
    recoveryMs,
    recoveryMax,
    healthOkAfterMs: run.recovery.healthOk === null ? null : run.recovery.healthOk - run.restartDoneAt,
    http5xx: countHttp(is5xx),
    non200: countHttp((status) => status !== "200" && !is5xx(status)),
    actionCounts: countBy(run.schedule.events, (e) => e.action),
    breakerOpenedWhileUp: breakerOpenedWhileUp(run),
  };
}

/** Breaker openings while QuestDB had been up for over 3 s (not caused by the chaos itself), in seconds since the start. */
function breakerOpenedWhileUp(run: SoakRun): number[] {
  const chaosStart = run.schedule.chaosStart;
  return run.logScan.breakerOpenedAt
    .filter((at) => {
      const st = run.schedule.stateAt(at);
      return st !== undefined && st.state === "up" && at - (chaosStart + st.atS * 1000) > 3_000;
    })
    .map((at) => Math.round((at - chaosStart) / 100) / 10);
}

/** RSS at moments of the run, its spread over the last third, and the V8 heap's floor in each third. */
function memoryFigures(run: SoakRun, chaosS: number) {
  const { rssSeries, heapSeries } = run.samples;
  const rssAt = (atS: number) => {
    let best: Sample | undefined;
    for (const sample of rssSeries) if (!best || Math.abs(sample.t - atS) < Math.abs(best.t - atS)) best = sample;
    return best?.kb ?? null;
  };
  const heapFloor = (from: number, to: number) => {
    const values = heapSeries.filter((sample) => sample.t >= from && sample.t < to).map((sample) => sample.kb);
    return values.length ? mb(Math.min(...values)) : null;
  };
  const heapFloors = [
    heapFloor(0, chaosS / 3),
    heapFloor(chaosS / 3, (2 * chaosS) / 3),
    heapFloor((2 * chaosS) / 3, chaosS + 0.001),
  ];
  const lastThird = rssSeries
    .filter((sample) => sample.t >= (2 * chaosS) / 3 && sample.t <= chaosS)
    .map((sample) => sample.kb);
  const rssPeakKb = run.rssEndKb === null ? run.samples.rssPeakKb : Math.max(run.samples.rssPeakKb, run.rssEndKb);
  const cacheFullAtS = run.stats.cacheFullAtS;
  return {
    heapFloors,
    memory: {
      rssStartMb: mb(run.samples.rssStartKb),
      rssAtOneThirdMb: mb(rssAt(chaosS / 3)),
      rssAtTwoThirdsMb: mb(rssAt((2 * chaosS) / 3)),
      rssAtChaosEndMb: mb(rssAt(chaosS)),
      rssEndMb: mb(run.rssEndKb),
      rssPeakMb: mb(rssPeakKb),
      rssAtCacheFullMb: cacheFullAtS === null ? null : mb(rssAt(cacheFullAtS)),
      rssLastThirdMinMb: mb(lastThird.length ? Math.min(...lastThird) : null),
      rssLastThirdMaxMb: mb(lastThird.length ? Math.max(...lastThird) : null),
      heapUsedFloorByThirdMb: heapFloors,
      heapUsedPeakMb: mb(heapSeries.length ? Math.max(...heapSeries.map((h) => h.kb)) : null),
      series: rssSeries.map((s) => ({ t: Math.round(s.t), mb: mb(s.kb) })),
      heapUsedSeries: heapSeries.map((h) => ({ t: Math.round(h.t), mb: mb(h.kb) })),
    },
  };
}

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}
