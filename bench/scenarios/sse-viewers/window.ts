import os from "node:os";
import { logSize } from "../../../harness/log-file";
import { round, sleep } from "../../../harness/stats";
import { activeSessionsQuery } from "../../../server/questdb/queries";
import { countExecutions } from "../../lib/questdb-log";
import type { BenchContext } from "../../lib/types";
import { type CounterSample, cpuSeconds, queryCounts, treeRssMb } from "./app-load";
import { GRACE_MS, LIMIT, type Plan } from "./plan";
import type { Sightings } from "./sightings";
import { type Db, writeSession } from "./writes";

/**
 * One measured window of a phase: the app's CPU, memory and queries from its start to its end,
 * with the writes landing at the plan's offsets inside it; then the grace period in which the
 * slowest viewers may still see the last writes.
 */

export interface Window {
  seconds: number;
  appCpuPercent: number;
  /** This process (the viewers) over the same window, % of one core. */
  benchCpuPercent: number;
  appRssMb: { before: number; max: number; end: number };
  /** QuestDB's JVM over the same window, % of one core (/proc). */
  questdbCpuPercent: number;
  /**
   * From the app's counter, read at the window's start and end (the rate over the two answers'
   * arrival times, which a saturated app delays); null with `error` when /api/metrics did not
   * answer. `questdbLogged`: QuestDB's own `QueryProgress exe` lines of the app's SQL between the
   * log's sizes at the window's start and end (it logs asynchronously: a cross-check).
   */
  queries: {
    sessionsActive: number | null;
    total: number | null;
    perSecond: number | null;
    counterSeconds: number | null;
    /** The change detector's own queries per second (operation "live.changes"), beside the full queries. */
    detectorPerSecond: number | null;
    error?: string;
    questdbLogged: number;
    questdbLoggedPerSecond: number;
  };
  loadAverage: { start: number[]; end: number[] };
  startedAt: number;
  endedAt: number;
}

const loadAverage = () => os.loadavg().map((l) => round(l, 2));

/** The counters' difference over the window, beside what QuestDB logged in it. */
function windowQueries(
  counts: [CounterSample | string, CounterSample | string],
  logged: number,
  seconds: number,
): Window["queries"] {
  const [c0, c1] = counts;
  const fromLog = { questdbLogged: logged, questdbLoggedPerSecond: round(logged / seconds, 3) };
  if (typeof c0 === "string" || typeof c1 === "string") {
    const error = [c0, c1].filter((c): c is string => typeof c === "string").join("; ");
    return {
      sessionsActive: null,
      total: null,
      perSecond: null,
      counterSeconds: null,
      detectorPerSecond: null,
      error,
      ...fromLog,
    };
  }
  const counterSeconds = (c1.at - c0.at) / 1000;
  return {
    sessionsActive: c1.sessionsActive - c0.sessionsActive,
    total: c1.total - c0.total,
    perSecond: round((c1.sessionsActive - c0.sessionsActive) / counterSeconds, 3),
    counterSeconds: round(counterSeconds, 2),
    detectorPerSecond: round((c1.changes - c0.changes) / counterSeconds, 3),
    ...fromLog,
  };
}

/** The measured window: snapshots before and after, the writes at their offsets, RSS sampled every 500 ms. */
export async function measureWindow(
  ctx: BenchContext,
  db: Db,
  sightings: Sightings,
  plan: Plan,
  label: string,
): Promise<Window> {
  const pid = ctx.app.pid;
  const rssBefore = treeRssMb(pid);
  // Not awaited: a saturated app would otherwise hold the window's start back.
  const q0 = queryCounts(ctx.app.url);
  const log0 = logSize(ctx.questdb.logFile);
  const load0 = loadAverage();
  const bench0 = process.cpuUsage();
  const cpu0 = cpuSeconds(pid);
  const questdbCpu0 = cpuSeconds(ctx.questdb.pid);
  const t0 = performance.now();
  let rssMax = rssBefore;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, treeRssMb(pid))), 500);
  const writes = plan.writeOffsetsMs.map(async (offset, k) => {
    await sleep(Math.max(0, t0 + offset - performance.now()));
    await writeSession(db, sightings, `${label}-${k + 1}-${Math.random().toString(36).slice(2, 8)}`);
  });
  await sleep(Math.max(0, t0 + plan.windowMs - performance.now()));
  const cpu1 = cpuSeconds(pid);
  const questdbCpu1 = cpuSeconds(ctx.questdb.pid);
  const t1 = performance.now();
  const bench1 = process.cpuUsage(bench0);
  const log1 = logSize(ctx.questdb.logFile);
  clearInterval(sampler);
  const q1 = queryCounts(ctx.app.url);
  const rssEnd = treeRssMb(pid);
  await Promise.all(writes);
  const seconds = (t1 - t0) / 1000;
  const logged = countExecutions(ctx.questdb.logFile, log0, log1, { app: activeSessionsQuery(LIMIT).sql }).app ?? 0;
  return {
    seconds: round(seconds, 2),
    appCpuPercent: round(((cpu1 - cpu0) / seconds) * 100, 1),
    benchCpuPercent: round(((bench1.user + bench1.system) / 1e6 / seconds) * 100, 1),
    appRssMb: { before: rssBefore, max: Math.max(rssMax, rssEnd), end: rssEnd },
    questdbCpuPercent: round(((questdbCpu1 - questdbCpu0) / seconds) * 100, 1),
    queries: windowQueries(await Promise.all([q0, q1]), logged, seconds),
    loadAverage: { start: load0, end: loadAverage() },
    startedAt: t0,
    endedAt: t1,
  };
}

/** Until every viewer has seen every write, or GRACE_MS; how long that took. */
export async function graceUntilSeen(sightings: Sightings): Promise<number> {
  const start = performance.now();
  while (!sightings.allSeen() && performance.now() - start < GRACE_MS) await sleep(100);
  return round(performance.now() - start, 0);
}
