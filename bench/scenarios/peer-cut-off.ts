import { createFleet, type AppFleet, type FleetInstance } from "../../harness/app-fleet";
import { trackTempDir } from "../../harness/exit-cleanup";
import { cutOffFromQuestdb, okShare, pollSessions, tally, waitAllOk } from "../../harness/partial-faults";
import { round } from "../../harness/stats";
import { startToxiproxy, type Toxiproxy } from "../../harness/toxiproxy";
import { failedFigure } from "../lib/report";
import { crashLines } from "../lib/fleet-processes";
import { startApp } from "../lib/processes";
import type { BenchContext, FigureResult, FigureSpec, Figures, Scenario } from "../lib/types";

/**
 * peerCutOffOkShare: one instance cut off from QuestDB must not keep a healthy one from serving
 * (issue 19, item 3). Two instances sharing a Redis, each reaching QuestDB through its own
 * Toxiproxy link; A's link is cut (connections refused) and A driven with uncached inputs until its
 * breaker opens, then B is asked for the viewers' input every 200 ms for 25 s while A's link stays
 * cut. The figure is the share of B's answers that are `ok`.
 */

const CUT_MS = 25_000;
const POLL_MS = 200;

export const PEER_CUT_OFF_OK_SHARE: FigureSpec<"peerCutOffOkShare"> = {
  key: "peerCutOffOkShare",
  unit: "share",
  goal: { min: 0.95, text: "≥ 0.95" },
  method: {
    text:
      "two more app instances (`next start`, the same settings) sharing one Redis, each reaching QuestDB through a " +
      "Toxiproxy link of its own. A's link is cut (disabled: connections refused) and A is driven with inputs " +
      "nobody has cached until its `/api/health` says breaker open; then B is asked `sessions.active` (limit 100) " +
      `every ${POLL_MS} ms for ${CUT_MS / 1000} s while A's link stays cut and A is still driven. The figure is ` +
      "the share of B's answers that are `ok` (B's own link is healthy throughout).",
  },
};

async function measure(ctx: BenchContext, toxiproxy: Toxiproxy): Promise<FigureResult> {
  let fleet: AppFleet | undefined;
  try {
    fleet = createFleet({
      size: 2,
      withRedis: true,
      dir: ctx.workDir,
      env: ctx.appEnv,
      namePrefix: "peer-cut",
      launch: ({ port, logFile, env }) => startApp(ctx.build, port, env, logFile),
      links: { toxiproxy, questdbPgPort: ctx.questdb.pgPort },
    });
    ctx.progress("  starting two instances sharing a Redis, each with its own Toxiproxy link to QuestDB …");
    await fleet.start();
    if (fleet.redis) trackTempDir(fleet.redis.dir);
    const [a, b] = fleet.instances as [FleetInstance, FleetInstance];
    await waitAllOk([a, b]);
    const cut = await cutOffFromQuestdb(a);
    const answers = await pollSessions(b.url, { durationMs: CUT_MS, everyMs: POLL_MS }).finally(() => cut.restore());
    const share = round(okShare(answers), 3);
    ctx.progress(`  peer cut off: B answered ${tally(answers)} → ok share ${share}`);
    return {
      value: share,
      runs: [share],
      spread: null,
      runsLabel: `1 cut of ${CUT_MS / 1000} s, ${answers.length} answers`,
      display: `${share} (${answers.filter((x) => x.status === "ok").length} of ${answers.length} ok)`,
      baseline: { value: null, display: "—", what: "none", runs: [] },
      ratio: null,
      ratioDisplay: "—",
      details: {
        answers: tally(answers),
        cutForMs: CUT_MS,
        pollEveryMs: POLL_MS,
        crashOrUnhandledLines: fleet.instances.flatMap((i) => crashLines(i).map((line) => `${i.name}: ${line}`)),
      },
    };
  } finally {
    await fleet?.stop();
  }
}

async function peerCutOffFigures(ctx: BenchContext): Promise<Figures<"peerCutOffOkShare">> {
  let toxiproxy: Toxiproxy | undefined;
  try {
    toxiproxy = await startToxiproxy();
    return { peerCutOffOkShare: await measure(ctx, toxiproxy) };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    ctx.progress(`  peerCutOffOkShare: FAILED — ${message}`);
    return { peerCutOffOkShare: failedFigure("peerCutOffOkShare", message) };
  } finally {
    await toxiproxy?.stop();
  }
}

/** The scenario's entry in bench/catalogue.ts (BENCH_ONLY=peer-cut-off). */
export const peerCutOffScenario: Scenario<"peerCutOffOkShare"> = {
  name: "peer-cut-off",
  figures: [PEER_CUT_OFF_OK_SHARE],
  title: "peerCutOffOkShare (two instances with Redis; one cut off from QuestDB for 25 s: the other's ok share)",
  run: peerCutOffFigures,
};
