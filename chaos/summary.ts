import path from "node:path";
import { DISTINCT_INPUTS_NOTED } from "./settings";
import { DATA_PROCEDURES } from "./clients";
import type { Figures, SoakRun } from "./figures";
import type { Report } from "./report";
import { CONNECTION_SAMPLE_MS, FAILED_LOG_FILE, HEAP_SAMPLE_MS, ROOT } from "./settings";

/** The soak's printed summary: the figures in a few lines, then each check with PASS or FAIL. */

export function summaryText(run: SoakRun, figures: Figures, report: Report): string {
  const { stats, options, samples, logScan } = run;
  const { breakerOpenedWhileUp } = figures;
  const m = report.memory;
  const fmt = (v: number | null) => (v === null ? "?" : `${v} MB`);
  const lines = [
    "",
    `Chaos soak: ${figures.chaosS.toFixed(0)} s of chaos, seed ${options.seed}, ${options.clients} clients → ${path.relative(ROOT, options.out)}`,
    `QuestDB: ${Object.entries(figures.actionCounts)
      .map(([a, n]) => `${n} ${a}`)
      .join(", ")}`,
    `Answers: ${stats.requests} requests; by HTTP status ${JSON.stringify(stats.byHttpStatus)}; HTTP 5xx ${figures.http5xx}`,
    `Union: ok ${stats.byUnionStatus.ok}, degraded ${stats.byUnionStatus.degraded}, error ${stats.byUnionStatus.error}; ` +
      Object.entries(stats.byProcedure)
        .map(([p, s]) => `${p} ${JSON.stringify(s)}`)
        .join("; ") +
      `; health ${JSON.stringify(stats.byHealthStatus)}`,
    `Empty messages: ${stats.emptyMessages}; contract violations: ${stats.violationCount}`,
    `Answer time: longest ${stats.maxMs} ms (${stats.maxMsKind}), p50 ${report.latencyMs.p50} ms, p95 ${report.latencyMs.p95} ms, p99 ${report.latencyMs.p99} ms`,
    `Connections to QuestDB (kernel, ESTABLISHED, every ${CONNECTION_SAMPLE_MS} ms): max ${samples.maxEstablished} of QUESTDB_POOL_MAX ${run.poolMax} ` +
      `(${samples.connectionSamples} samples; any state max ${samples.maxAnyState}; the pool's own max total ${stats.maxPoolTotalReported})`,
    `Memory (VmRSS): start ${fmt(m.rssStartMb)}, 1/3 ${fmt(m.rssAtOneThirdMb)}, 2/3 ${fmt(m.rssAtTwoThirdsMb)}, ` +
      `end of chaos ${fmt(m.rssAtChaosEndMb)}, end ${fmt(m.rssEndMb)}, peak ${fmt(m.rssPeakMb)}; ` +
      `last third of the chaos ${fmt(m.rssLastThirdMinMb)}–${fmt(m.rssLastThirdMaxMb)}`,
    `V8 heap used (from /api/metrics every ${HEAP_SAMPLE_MS / 1000} s): lowest in each third of the chaos ` +
      `${figures.heapFloors.map(fmt).join(" / ")}, peak ${fmt(m.heapUsedPeakMb)}`,
    `Cache: ${stats.okKeys.size} distinct inputs answered ok` +
      (stats.cacheFullAtS === null
        ? `, fewer than ${DISTINCT_INPUTS_NOTED}`
        : `, ${DISTINCT_INPUTS_NOTED} reached at +${stats.cacheFullAtS.toFixed(0)} s (RSS then ${fmt(m.rssAtCacheFullMb)})`),
    `App log: ${logScan.lines} lines, unhandled ${logScan.unhandled.length}, http 5xx ${logScan.http5xx}, trpc.unexpected_error ${logScan.unexpectedErrors}`,
    `Breaker: opened ${logScan.breakerOpenedAt.length} times, ${breakerOpenedWhileUp.length} while QuestDB had been up for over 3 s` +
      `${breakerOpenedWhileUp.length ? ` (at +${breakerOpenedWhileUp.join(", +")} s)` : ""}; ` +
      `answers other than ok while QuestDB had been up for over 3 s: ${stats.notOkWhileUp}`,
    `Recovery after the last restart: ${DATA_PROCEDURES.map((p) => `${p} ${figures.recoveryMs[p] ?? "never"} ms`).join(", ")}, ` +
      `/api/health ok ${report.recovery.healthOkAfterMs ?? "never"} ms; app alive: ${run.app.alive ? "yes" : "NO"}`,
    "",
    ...report.checks.map((c) => `${c.ok ? "PASS" : "FAIL"}  ${c.name} — ${c.detail}`),
    "",
    report.ok
      ? "chaos: all checks passed"
      : `chaos: FAILED (the app's log is kept in ${path.relative(ROOT, FAILED_LOG_FILE)})`,
  ];
  return lines.join("\n");
}
