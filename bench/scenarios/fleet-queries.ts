import { logSize } from "../../harness/log-file";
import { fmt, median, round, sleep, spread } from "../../harness/stats";
import { activeSessionsQuery } from "../../server/questdb/queries";
import { queriesStarted, sessionsActive } from "../lib/app-client";
import type { Fleet } from "../lib/fleet-processes";
import { countExecutions } from "../lib/questdb-log";
import { pollAsViewers, type ViewerPolls } from "../lib/viewer-poller";
import type { BenchContext, FigureResult, FigureSpec } from "../lib/types";

/**
 * fleetQueryRatio: what a fleet costs QuestDB compared with one instance. The same 200 viewers
 * (every 2 s, own phase each, `sessions.active` limit 100) poll for 20 s straight at one instance
 * of the fleet (the other two idle), then through nginx over the three. QuestDB queries per second
 * are the sum over the instances of `questdb_queries_started_total{operation="sessions.active"}`
 * over the window; the figure is three ÷ one, the median over the runs. Freshly started instances
 * answer their first requests slowly (compilation, JIT), so a warm-up through nginx comes first,
 * not counted.
 */

const VIEWERS = 200;
const INTERVAL_MS = 2_000;
const LIMIT = 100;
const WARM_UP_MS = 6_000;

export const FLEET_QUERY_RATIO: FigureSpec<"fleetQueryRatio"> = {
  key: "fleetQueryRatio",
  unit: "ratio",
  goal: { max: 1.1, text: "≤ 1.1" },
  method: {
    text:
      "three instances sharing one Redis, nginx round-robin in front, warmed up by 6 s of viewers through nginx " +
      "(not counted). Per run, 200 viewers poll every 2 s (own phase each) for 20 s straight at one instance (the " +
      "other two idle), then 200 viewers through nginx over the three; QuestDB queries per second = the sum over " +
      'the instances of `questdb_queries_started_total{operation="sessions.active"}` ÷ the window (cross-checked ' +
      "with QuestDB's `QueryProgress exe` log lines). The figure is three ÷ one, median over the runs.",
  },
};

interface Phase extends ViewerPolls {
  target: "one instance" | "three instances via nginx";
  queries: number;
  queriesPerInstance: number[];
  seconds: number;
  queriesPerSecond: number;
  /** QuestDB's own count of the app's SQL in the window. */
  questdbLogged: number;
}

async function fleetQueries(fleet: Fleet): Promise<number[]> {
  return Promise.all(fleet.instances.map((i) => queriesStarted(i.app.url)));
}

function poll(url: string, durationMs: number): Promise<ViewerPolls> {
  return pollAsViewers(VIEWERS, INTERVAL_MS, durationMs, async () => {
    const answer = await sessionsActive(url, LIMIT, 30_000);
    return answer.status === "ok" ? null : `${answer.status}: ${answer.message ?? "(no message)"}`;
  });
}

async function phase(ctx: BenchContext, fleet: Fleet, target: Phase["target"], durationMs: number): Promise<Phase> {
  const url = target === "one instance" ? fleet.instances[0]!.app.url : fleet.balancer.url;
  await sleep(1_500); // the previous phase's last reuse window passes
  const q0 = await fleetQueries(fleet);
  const off0 = logSize(ctx.questdb.logFile);
  const t0 = performance.now();
  const polls = await poll(url, durationMs);
  const seconds = (performance.now() - t0) / 1000;
  const q1 = await fleetQueries(fleet);
  await sleep(1_500); // QuestDB writes its log asynchronously
  const logged = countExecutions(ctx.questdb.logFile, off0, logSize(ctx.questdb.logFile), {
    app: activeSessionsQuery(LIMIT).sql,
  });
  const queriesPerInstance = q1.map((q, i) => q - q0[i]!);
  const queries = queriesPerInstance.reduce((a, b) => a + b, 0);
  return {
    target,
    ...polls,
    queries,
    queriesPerInstance,
    seconds: round(seconds, 2),
    queriesPerSecond: round(queries / seconds, 3),
    questdbLogged: logged.app ?? 0,
  };
}

export async function fleetQueryRatio(ctx: BenchContext, fleet: Fleet): Promise<FigureResult> {
  const runs = ctx.quick ? 1 : 3;
  const durationMs = ctx.quick ? 10_000 : 20_000;
  const samples: { one: Phase; three: Phase; ratio: number }[] = [];
  const warmUp = await poll(fleet.balancer.url, WARM_UP_MS);
  for (let run = 0; run < runs; run++) {
    const one = await phase(ctx, fleet, "one instance", durationMs);
    const three = await phase(ctx, fleet, "three instances via nginx", durationMs);
    const ratio = round(three.queriesPerSecond / one.queriesPerSecond, 3);
    samples.push({ one, three, ratio });
    ctx.progress(
      `  fleet queries run ${run + 1}/${runs}: one instance ${one.queries} queries in ${fmt(one.seconds)} s (${one.polls} polls, ${one.notOk} not ok) · ` +
        `three ${three.queries} [${three.queriesPerInstance.join(" + ")}] in ${fmt(three.seconds)} s (${three.polls} polls, ${three.notOk} not ok) · ratio ${ratio}`,
    );
  }
  const ratios = samples.map((s) => s.ratio);
  const value = median(ratios);
  const oneQps = median(samples.map((s) => s.one.queriesPerSecond));
  const threeQps = median(samples.map((s) => s.three.queriesPerSecond));
  const notOkWhy: Record<string, number> = {};
  for (const p of samples.flatMap((s) => [s.one, s.three])) {
    for (const [why, n] of Object.entries(p.notOkWhy))
      notOkWhy[`${p.target}: ${why}`] = (notOkWhy[`${p.target}: ${why}`] ?? 0) + n;
  }
  const notOk = Object.values(notOkWhy).reduce((a, b) => a + b, 0);
  return {
    value,
    runs: ratios,
    spread: spread(ratios),
    runsLabel: `${runs} × (${durationMs / 1000} s one + ${durationMs / 1000} s three), ${VIEWERS} viewers every ${INTERVAL_MS / 1000} s`,
    display: `${value.toFixed(2)} (three instances: ${fmt(threeQps)} queries/s)`,
    baseline: {
      value: oneQps,
      display: `one instance: ${fmt(oneQps)} queries/s`,
      what: "the same 200 viewers straight at one instance of the fleet (REDIS_URL set, the other two idle): its QuestDB queries per second",
      runs: samples.map((s) => s.one.queriesPerSecond),
    },
    ratio: null,
    ratioDisplay: "—",
    notes: notOk
      ? [
          `fleetQueryRatio: ${notOk} polls were not ok: ${Object.entries(notOkWhy)
            .map(([why, n]) => `${n} × ${why}`)
            .join("; ")}`,
        ]
      : undefined,
    details: {
      viewers: VIEWERS,
      intervalMs: INTERVAL_MS,
      durationMs,
      warmUp: { ...warmUp, durationMs: WARM_UP_MS, note: "200 viewers through nginx before the runs, not counted" },
      instances: fleet.instances.length,
      balancer: "nginx round-robin (harness/nginx-process.ts)",
      counter:
        'questdb_queries_started_total{operation="sessions.active"} at each instance\'s GET /api/metrics, summed',
      perRun: samples,
      crossCheck: {
        source:
          "QuestDB's log: `QueryProgress exe` lines with the app's SQL in each phase's window (only the fleet's instances poll then)",
        counted: samples.reduce((n, s) => n + s.one.queries + s.three.queries, 0),
        questdbLogged: samples.reduce((n, s) => n + s.one.questdbLogged + s.three.questdbLogged, 0),
      },
    },
  };
}
