import autocannon from "autocannon";
import { metricValue, metricsText, sessionsUrl } from "../lib/app-client";
import { fmt, median, round, sleep, spread } from "../../harness/stats";
import type { BenchContext, FigureResult, FigureSpec, Scenario } from "../lib/types";

/**
 * throughputRps: answers per second for `sessions.active` at 64 concurrent connections, QuestDB
 * healthy, measured with autocannon against the app (`next start`) and, interleaved run by run,
 * against the plain-pg baseline route. Answers = 2xx responses ÷ the run's duration. For the app,
 * its own counters tell how many of those answers were `ok` and how many queries reached QuestDB.
 */

export const THROUGHPUT: FigureSpec<"throughputRps"> = {
  key: "throughputRps",
  unit: "answers/s",
  goal: null,
  method: {
    text:
      "autocannon, 64 connections, healthy QuestDB; 2xx answers per second, p50/p99 latency; " +
      "runs alternate app / plain-pg route.",
  },
};

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  requests: number;
}

async function cannon(url: string, durationS: number, connections: number): Promise<Run> {
  const result = await autocannon({ url, connections, duration: durationS, pipelining: 1, timeout: 30 });
  return {
    rps: result["2xx"] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    requests: result.requests.total,
  };
}

export async function throughputRps(ctx: BenchContext): Promise<FigureResult> {
  const runs = ctx.quick ? 2 : 3;
  const durationS = ctx.quick ? 5 : 10;
  const connections = 64;
  const oursUrl = sessionsUrl(ctx.app.url, 100);
  const plainUrl = `${ctx.baseline.url}/sessions?limit=100`;

  // Warm both servers (JIT, connection pools) before anything counts.
  await cannon(oursUrl, 3, connections);
  await cannon(plainUrl, 3, connections);
  await sleep(1_000);

  const ours: Run[] = [];
  const plain: Run[] = [];
  const okAnswers: number[] = [];
  const queries: number[] = [];
  for (let run = 0; run < runs; run++) {
    const before = await metricsText(ctx.app.url);
    const a = await cannon(oursUrl, durationS, connections);
    const after = await metricsText(ctx.app.url);
    const answersOk =
      metricValue(after, "dashboard_answers_total", { operation: "sessions.active", status: "ok" }) -
      metricValue(before, "dashboard_answers_total", { operation: "sessions.active", status: "ok" });
    const started =
      metricValue(after, "questdb_queries_started_total", { operation: "sessions.active" }) -
      metricValue(before, "questdb_queries_started_total", { operation: "sessions.active" });
    ours.push(a);
    okAnswers.push(answersOk);
    queries.push(started);
    await sleep(1_000);
    const b = await cannon(plainUrl, durationS, connections);
    plain.push(b);
    await sleep(1_000);
    ctx.progress(
      `  throughput run ${run + 1}/${runs}: ours ${fmt(a.rps)} rps (p50 ${a.p50} ms, p99 ${a.p99} ms; ${fmt(answersOk)} ok, ${started} queries) · ` +
        `plain pg ${fmt(b.rps)} rps (p50 ${b.p50} ms, p99 ${b.p99} ms)`,
    );
  }
  // Reference: what `next start` serves on this machine for a route that does nothing
  // (GET /api/health answers from memory: no tRPC, no QuestDB).
  const ceiling = await cannon(`${ctx.app.url}/api/health`, durationS, connections);
  ctx.progress(`  reference: GET /api/health ${fmt(ceiling.rps)} rps (p50 ${ceiling.p50} ms, p99 ${ceiling.p99} ms)`);

  const rps = ours.map((r) => round(r.rps, 1));
  const baseRps = plain.map((r) => round(r.rps, 1));
  const value = median(rps);
  const baseValue = median(baseRps);
  const p50 = median(ours.map((r) => r.p50));
  const p99 = median(ours.map((r) => r.p99));
  const bp50 = median(plain.map((r) => r.p50));
  const bp99 = median(plain.map((r) => r.p99));
  return {
    value,
    runs: rps,
    spread: spread(rps),
    runsLabel: `${runs} × ${durationS} s at ${connections} connections`,
    display: `${fmt(value)} rps (p50 ${p50} ms, p99 ${p99} ms)`,
    baseline: {
      value: baseValue,
      display: `plain pg route: ${fmt(baseValue)} rps (p50 ${bp50} ms, p99 ${bp99} ms)`,
      what: "the plain-pg route (node:http + default pg.Pool, one query per request), autocannon with the same settings, interleaved run by run",
      runs: baseRps,
    },
    ratio: round(value / baseValue, 3),
    ratioDisplay: (value / baseValue).toFixed(2),
    notes: [
      `throughputRps: \`next start\` serves GET /api/health (answered from memory, no tRPC, no QuestDB) at ${fmt(ceiling.rps)} rps ` +
        `with the same load, so the app's figure is bounded by Next.js on this machine, not by QuestDB ` +
        `(${queries.join(", ")} queries reached QuestDB per ${durationS} s run).`,
    ],
    details: {
      tool: "autocannon 9 (programmatic), pipelining 1",
      connections,
      durationS,
      p50Ms: p50,
      p99Ms: p99,
      baselineP50Ms: bp50,
      baselineP99Ms: bp99,
      oursRuns: ours,
      baselineRuns: plain,
      oursOkAnswersPerRun: okAnswers,
      oursQueriesToQuestdbPerRun: queries,
      nextjsHealthRouteRps: round(ceiling.rps, 1),
      nextjsHealthRouteP50Ms: ceiling.p50,
      nextjsHealthRouteP99Ms: ceiling.p99,
      nextjsHealthRouteNote:
        "one run of GET /api/health (answered from memory, no tRPC, no QuestDB) with the same settings: the ceiling of next start on this machine",
      note: "the app answers most requests from its 1 s reuse of a success (about one query per second reaches QuestDB); the baseline sends every request to QuestDB",
    },
  };
}

/** The scenario's entry in bench/catalogue.ts (BENCH_ONLY=throughput). */
export const throughputScenario: Scenario<"throughputRps"> = {
  name: "throughput",
  figures: [THROUGHPUT],
  title: "throughputRps (autocannon, 64 connections)",
  run: async (ctx) => ({ throughputRps: await throughputRps(ctx) }),
};
