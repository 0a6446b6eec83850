import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { processTree, rssKb } from "../../../harness/proc";
import { round } from "../../../harness/stats";
import { metricValue } from "../../lib/app-client";
import { get } from "../../lib/http";

/**
 * What the app costs while viewers watch: CPU time and resident memory of its process tree from
 * /proc, and its own count of the queries it sent QuestDB.
 */

const CLOCK_TICKS = (() => {
  const result = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const ticks = Number(result.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
})();

/** User + system CPU seconds of the process and its descendants (/proc/<pid>/stat utime, stime). */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / CLOCK_TICKS;
}

export function treeRssMb(pid: number): number {
  return round(processTree(pid).reduce((sum, p) => sum + (rssKb(p) ?? 0), 0) / 1024, 1);
}

export interface CounterSample {
  sessionsActive: number;
  /** The change detector's own queries (operation "live.changes"). */
  changes: number;
  total: number;
  /**
   * performance.now() when the answer arrived: under load the request waits its turn, and the
   * handler reads the counter just before answering.
   */
  at: number;
}

/** The app's query counters, or why not (a saturated app may answer /api/metrics late: up to 60 s is waited). */
export async function queryCounts(appUrl: string): Promise<CounterSample | string> {
  const answer = await get(`${appUrl}/api/metrics`, 60_000);
  if (answer.status !== 200) return `GET /api/metrics: ${answer.status} ${answer.error ?? answer.body.slice(0, 100)}`;
  return {
    sessionsActive: metricValue(answer.body, "questdb_queries_started_total", { operation: "sessions.active" }),
    changes: metricValue(answer.body, "questdb_queries_started_total", { operation: "live.changes" }),
    total: metricValue(answer.body, "questdb_queries_started_total"),
    at: answer.endedAt,
  };
}
