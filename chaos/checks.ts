import type { Figures, SoakRun } from "./figures";
import { RECOVERY_LIMIT_MS, RECOVERY_WAIT_MS, REQUEST_TIMEOUT_MS } from "./settings";

/** What the soak must show to pass; `.ci/run` reads each check's name, ok and detail from the report. */

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export function soakChecks(run: SoakRun, figures: Figures): Check[] {
  const { stats, logScan, samples, poolMax } = run;
  const { http5xx, non200, recoveryMax, recoveryMs } = figures;
  return [
    { name: "no HTTP 5xx answer", ok: http5xx === 0, detail: `${http5xx} answers with HTTP 5xx` },
    {
      name: "every (valid) request answered HTTP 200, none hung",
      ok: non200 === 0,
      detail: `${non200} answers other than 200 and 5xx (timeouts after ${REQUEST_TIMEOUT_MS / 1000} s, network errors, 4xx): ${JSON.stringify(stats.byHttpStatus)}`,
    },
    {
      name: "no empty message",
      ok: stats.emptyMessages === 0,
      detail: `${stats.emptyMessages} answers with an empty message`,
    },
    {
      name: "every answer follows the contract's union",
      ok: stats.violationCount === 0,
      detail: `${stats.violationCount} violations${stats.violations.length ? `: ${stats.violations.slice(0, 3).join(" | ")}` : ""}`,
    },
    {
      name: `connections to QuestDB never above QUESTDB_POOL_MAX (${poolMax})`,
      ok: samples.maxEstablished <= poolMax && samples.connectionSamples > 0,
      detail: `max ${samples.maxEstablished} ESTABLISHED (at +${samples.maxEstablishedAt.toFixed(1)} s) over ${samples.connectionSamples} samples`,
    },
    {
      name: "no unhandled rejection or uncaught exception in the app log",
      ok: logScan.unhandled.length === 0,
      detail: `${logScan.unhandled.length} lines${logScan.unhandled.length ? `: ${logScan.unhandled[0]}` : ""}`,
    },
    {
      name: "the app process is alive at the end",
      ok: run.app.alive,
      detail: run.app.alive ? `pid ${run.app.pid} alive` : `exited: ${JSON.stringify(run.app.exit)}`,
    },
    {
      name: `ok answers again within ${RECOVERY_LIMIT_MS / 1000} s of the last restart`,
      ok: recoveryMax !== null && recoveryMax <= RECOVERY_LIMIT_MS,
      detail:
        recoveryMax === null
          ? `no ok answer within ${RECOVERY_WAIT_MS / 1000} s: ${JSON.stringify(recoveryMs)}`
          : `${recoveryMax} ms`,
    },
  ];
}
