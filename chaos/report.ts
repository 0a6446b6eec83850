import fs from "node:fs";
import path from "node:path";
import { DISTINCT_INPUTS_NOTED } from "./settings";
import type { Check } from "./checks";
import type { Figures, SoakRun } from "./figures";
import {
  APP_ENV,
  CONNECTION_SAMPLE_MS,
  FAILED_LOG_FILE,
  INTERVAL_MS,
  RECOVERY_LIMIT_MS,
  REQUEST_TIMEOUT_MS,
} from "./settings";

/** The soak's JSON report (bench/results/chaos.json by default; npm test reads its `checks`). */

export type Report = ReturnType<typeof buildReport>;

export function buildReport(run: SoakRun, figures: Figures, checks: Check[]) {
  const { stats, options, poolMax, samples, logScan } = run;
  const chaosStart = run.schedule.chaosStart;
  return {
    ok: checks.every((c) => c.ok),
    startedAt: run.startedAtIso,
    finishedAt: new Date(run.finishedAt).toISOString(),
    options: { ...options, requestTimeoutMs: REQUEST_TIMEOUT_MS, intervalMs: INTERVAL_MS },
    build: run.build,
    app: { env: { ...APP_ENV, QUESTDB_POOL_MAX: String(poolMax) }, pid: run.app.pid, aliveAtEnd: run.app.alive },
    seeded: { trades: run.seeded.trades, sessionEvents: run.seeded.sessionEvents },
    checks,
    chaos: { durationS: figures.chaosS, actions: figures.actionCounts, events: run.schedule.events },
    answers: {
      requests: stats.requests,
      byHttpStatus: stats.byHttpStatus,
      byUnionStatus: stats.byUnionStatus,
      byProcedure: stats.byProcedure,
      byHealthStatus: stats.byHealthStatus,
      byKind: stats.byKind,
      emptyMessages: stats.emptyMessages,
      notOkWhileQuestdbUp: stats.notOkWhileUp,
      notOkWhileQuestdbUpExamples: stats.notOkWhileUpExamples,
      contractViolations: stats.violationCount,
      violationExamples: stats.violations,
    },
    latencyMs: { max: stats.maxMs, maxKind: stats.maxMsKind, ...figures.latencyMs },
    connections: {
      poolMax,
      maxEstablished: samples.maxEstablished,
      maxEstablishedAtS: samples.maxEstablishedAt,
      maxAnyState: samples.maxAnyState,
      samples: samples.connectionSamples,
      sampleEveryMs: CONNECTION_SAMPLE_MS,
      maxPoolTotalReportedByApp: stats.maxPoolTotalReported,
    },
    memory: figures.memory,
    cache: {
      boundedBy: "QUESTDB_CACHE_MAX_MB (bytes), protected segment for inputs asked more than once",
      distinctInputsAnsweredOk: stats.okKeys.size,
      distinctInputsNoted: DISTINCT_INPUTS_NOTED,
      notedAtS: stats.cacheFullAtS,
    },
    recovery: {
      lastRestartAtS: (run.restartDoneAt - chaosStart) / 1000,
      firstOkAfterMs: figures.recoveryMs,
      healthOkAfterMs: figures.healthOkAfterMs,
      maxMs: figures.recoveryMax,
      limitMs: RECOVERY_LIMIT_MS,
    },
    appLog: {
      lines: logScan.lines,
      events: logScan.events,
      unhandled: logScan.unhandled.length,
      unhandledExamples: logScan.unhandled.slice(0, 5),
      http5xxLines: logScan.http5xx,
      unexpectedErrors: logScan.unexpectedErrors,
      linesWithEmptyErrorOrMessage: logScan.emptyFields,
      breakerOpenings: logScan.breakerOpenedAt.length,
      breakerOpenedWhileQuestdbUpAtS: figures.breakerOpenedWhileUp,
    },
    timeline: stats.seconds.map((s, i) => ({
      t: i,
      questdb: [...run.schedule.states].reverse().find((st) => st.atS <= i + 1)?.state ?? "up",
      ...s,
      connections: samples.connPerSecond[i] ?? null,
    })),
  };
}

/** Writes the report to `out`; after a failed check, keeps a copy of the app's log too. */
export function writeReport(report: Report, out: string, appLogFile: string): void {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  if (!report.ok) {
    fs.mkdirSync(path.dirname(FAILED_LOG_FILE), { recursive: true });
    fs.copyFileSync(appLogFile, FAILED_LOG_FILE);
  }
}
