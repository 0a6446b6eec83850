import { activeSessionsQuery } from "../../server/questdb/queries";
import { queriesStarted, sessionsActive } from "../lib/app-client";
import { get, getJson } from "../lib/http";
import { logSize } from "../../harness/log-file";
import { countExecutions } from "../lib/questdb-log";
import { pollAsViewers, type ViewerPolls } from "../lib/viewer-poller";
import { fmt, median, round, sleep, spread } from "../../harness/stats";
import type { BenchContext, FigureResult, FigureSpec, Scenario } from "../lib/types";

/**
 * dbQueriesPerViewerPoll: 200 simulated viewers (bench/lib/viewer-poller.ts) poll `sessions.active`
 * every 2 s for 30 s. The figure is the queries that reached QuestDB — the app's
 * `questdb_queries_started_total` — divided by the polls.
 * At the same time 200 more viewers poll the plain-pg baseline route.
 *
 * Cross-check on QuestDB's side: QuestDB logs `QueryProgress exe [id=…, sql=…]` once per query it
 * executes; the app's SQL and the baseline's one-line SQL are counted separately in the window.
 */

export const DB_QUERIES_PER_VIEWER_POLL: FigureSpec<"dbQueriesPerViewerPoll"> = {
  key: "dbQueriesPerViewerPoll",
  unit: "queries per poll",
  goal: { max: 0.05, text: "≤ 0.05" },
  method: {
    text:
      "200 viewers, each polling every 2 s at its own phase for 30 s; queries counted by " +
      "`questdb_queries_started_total` and cross-checked with QuestDB's `QueryProgress exe` log lines.",
  },
};

interface ViewerRun extends ViewerPolls {
  queries: number;
}

/** QuestDB's log lines of one run: the app's SQL, the baseline's, anything else. */
interface LoggedRun {
  app: number;
  baseline: number;
  other: number;
}

interface CrossCheck {
  appCounterTotal: number;
  questdbLoggedAppTotal: number;
  baselineCounterTotal: number;
  questdbLoggedBaselineTotal: number;
}

/** The counters' totals beside QuestDB's own log of the same runs. */
function crossCheckOf(ours: ViewerRun[], plain: ViewerRun[], questdbSide: LoggedRun[]) {
  const appCounterTotal = ours.reduce((s, r) => s + r.queries, 0);
  const questdbLoggedAppTotal = questdbSide.reduce((s, r) => s + r.app, 0);
  const questdbLoggedBaselineTotal = questdbSide.reduce((s, r) => s + r.baseline, 0);
  const baselineCounterTotal = plain.reduce((s, r) => s + r.queries, 0);
  return {
    source:
      "QuestDB's log: `QueryProgress exe` lines with the app's SQL (multi-line) and the baseline's (one line), " +
      "in each run's window",
    appCounterTotal,
    questdbLoggedAppTotal,
    baselineCounterTotal,
    questdbLoggedBaselineTotal,
    perRun: questdbSide,
    agrees: questdbLoggedAppTotal === appCounterTotal && questdbLoggedBaselineTotal === baselineCounterTotal,
  };
}

/** The cross-check in latest.md's words, after the goals. */
function crossCheckLines(cross: CrossCheck): string[] {
  return [
    "",
    `Cross-check (viewer runs): the app's \`questdb_queries_started_total\` counted ${fmt(cross.appCounterTotal)} ` +
      `queries, QuestDB's log shows ${fmt(cross.questdbLoggedAppTotal)} executions of the app's SQL; the baseline ` +
      `counted ${fmt(cross.baselineCounterTotal)}, QuestDB logged ${fmt(cross.questdbLoggedBaselineTotal)}.`,
  ];
}

export async function dbQueriesPerViewerPoll(ctx: BenchContext): Promise<FigureResult> {
  const runs = ctx.quick ? 1 : 3;
  const count = 200;
  const intervalMs = 2_000;
  const durationMs = ctx.quick ? 10_000 : 30_000;
  const appSql = activeSessionsQuery(100).sql;
  const baselineSql = appSql.replace(/\s+/g, " ").trim();
  const baselineQueries = async () =>
    (await getJson<{ queries: number }>(`${ctx.baseline.url}/stats`)).json?.queries ?? NaN;

  const ours: ViewerRun[] = [];
  const plain: ViewerRun[] = [];
  const questdbSide: LoggedRun[] = [];
  for (let run = 0; run < runs; run++) {
    await sleep(1_500); // let the previous run's last reuse window pass
    const q0 = await queriesStarted(ctx.app.url);
    const b0 = await baselineQueries();
    const off0 = logSize(ctx.questdb.logFile);
    const [a, b] = await Promise.all([
      pollAsViewers(count, intervalMs, durationMs, async () => {
        const answer = await sessionsActive(ctx.app.url, 100, 30_000);
        return answer.status === "ok" ? null : `${answer.status}: ${answer.message ?? "(no message)"}`;
      }),
      pollAsViewers(count, intervalMs, durationMs, async () => {
        const answer = await get(`${ctx.baseline.url}/sessions?limit=100`, 30_000);
        return answer.status === 200 ? null : `http_${answer.status}: ${answer.error ?? answer.body.slice(0, 200)}`;
      }),
    ]);
    const q1 = await queriesStarted(ctx.app.url);
    const b1 = await baselineQueries();
    await sleep(1_500); // QuestDB writes its log asynchronously
    const counted = countExecutions(ctx.questdb.logFile, off0, logSize(ctx.questdb.logFile), {
      app: appSql,
      baseline: baselineSql,
    });
    ours.push({ ...a, queries: q1 - q0 });
    plain.push({ ...b, queries: b1 - b0 });
    questdbSide.push({ app: counted.app ?? 0, baseline: counted.baseline ?? 0, other: counted.other });
    ctx.progress(
      `  viewers run ${run + 1}/${runs}: ours ${q1 - q0} queries / ${a.polls} polls ` +
        `(${a.notOk} not ok${a.notOk ? `: ${JSON.stringify(a.notOkWhy)}` : ""}) · ` +
        `plain ${b1 - b0} / ${b.polls} · QuestDB log: app ${counted.app}, baseline ${counted.baseline}`,
    );
  }
  const perPoll = ours.map((r) => round(r.queries / r.polls, 4));
  const basePerPoll = plain.map((r) => round(r.queries / r.polls, 4));
  const value = median(perPoll);
  const baseValue = median(basePerPoll);
  const totalQueries = ours.reduce((s, r) => s + r.queries, 0);
  const totalPolls = ours.reduce((s, r) => s + r.polls, 0);
  const crossCheck = crossCheckOf(ours, plain, questdbSide);
  return {
    value,
    runs: perPoll,
    spread: spread(perPoll),
    runsLabel: `${runs} × ${durationMs / 1000} s, ${count} viewers every ${intervalMs / 1000} s`,
    display: `${value.toFixed(4)} (${fmt(totalQueries)} queries / ${fmt(totalPolls)} polls)`,
    baseline: {
      value: baseValue,
      display: `plain route: ${baseValue.toFixed(2)}`,
      what: "200 more viewers polling the plain-pg route at the same time: its queries ÷ its polls",
      runs: basePerPoll,
    },
    ratio: round(value / baseValue, 4),
    ratioDisplay: (value / baseValue).toFixed(4),
    details: {
      viewers: count,
      intervalMs,
      durationMs,
      oursRuns: ours,
      baselineRuns: plain,
      counter: 'questdb_queries_started_total{operation="sessions.active"} at GET /api/metrics',
      crossCheck,
    },
    crossCheck,
    markdown: crossCheckLines(crossCheck),
  };
}

/** The scenario's entry in bench/catalogue.ts (BENCH_ONLY=viewers). */
export const viewersScenario: Scenario<"dbQueriesPerViewerPoll"> = {
  name: "viewers",
  figures: [DB_QUERIES_PER_VIEWER_POLL],
  title: "dbQueriesPerViewerPoll (200 viewers every 2 s)",
  run: async (ctx) => ({ dbQueriesPerViewerPoll: await dbQueriesPerViewerPoll(ctx) }),
};
