import { setMaxListeners } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DISTINCT_INPUTS_NOTED } from "./settings";
import { startApp, type AppProcess } from "../harness/app-process";
import { installExitCleanup, trackTempDir } from "../harness/exit-cleanup";
import { nextBuild } from "../harness/next-build";
import { Rng } from "../harness/prng";
import { rssKb } from "../harness/proc";
import { findFreePort, startTestQuestdb, type QuestdbProcess } from "../harness/questdb-process";
import { seedDemoData } from "../demo/seed";
import { scanLog } from "./app-log";
import { soakChecks } from "./checks";
import { ClientStats, DATA_PROCEDURES, runClient } from "./clients";
import { figuresOf, type SoakRun } from "./figures";
import { parseOptions, type Options } from "./options";
import { buildReport, writeReport } from "./report";
import { startSamplers } from "./samplers";
import { ChaosSchedule } from "./schedule";
import { APP_ENV, RECOVERY_WAIT_MS, REQUEST_TIMEOUT_MS, ROOT } from "./settings";
import { summaryText } from "./summary";

/**
 * `npm run chaos [-- --duration <s>] [--seed <n>] [--build] [--clients <n>] [--think-ms <min>-<max>]`
 *
 * A soak of the production build against a real, seeded QuestDB: 50 clients poll every procedure
 * (and GET /api/health) with valid, varied inputs while QuestDB is killed and restarted, frozen and
 * thawed at seeded random intervals of 3–15 s. The run ends with a last kill and restart, and
 * measures how soon `ok` answers come back. Writes bench/results/chaos.json, prints a summary and
 * exits non-zero when a check fails. Every child process and the temporary directory are removed,
 * also on failure or Ctrl-C.
 *
 * The phases, in order: options → build → QuestDB (seeded) → app → clients under a chaos schedule
 * → final restart and recovery → figures and checks → report and summary. The pieces live beside
 * this file: options, schedule, clients, samplers, app-log, figures, checks, report, summary.
 */

// ---------------------------------------------------------------------------------------------
// Children and clean-up

/** What clean-up must undo, however the soak ends. */
const running: {
  app: AppProcess | null;
  questdb: QuestdbProcess | null;
  tempDir: string | null;
  removeTempDir: (() => void) | null;
  stopSamplers: (() => void) | null;
} = { app: null, questdb: null, tempDir: null, removeTempDir: null, stopSamplers: null };
let stopping = false;
const abort = new AbortController();
// Every sleeping client listens for Ctrl-C on the same signal.
setMaxListeners(10_000, abort.signal);
let cleaning: Promise<void> | null = null;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (abort.signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      abort.signal.removeEventListener("abort", done);
      resolve();
    }
    abort.signal.addEventListener("abort", done, { once: true });
  });
}

/** Stops the app and QuestDB politely and removes the temporary directory (once, however often called). */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    stopping = true;
    running.stopSamplers?.();
    await running.app?.stop().catch(() => undefined);
    if (running.questdb) {
      running.questdb.thaw();
      await running.questdb.stop().catch(() => undefined);
    }
    running.removeTempDir?.();
    running.removeTempDir = null;
  })();
  return cleaning;
}

/**
 * Ctrl-C or SIGTERM: the clients and any build stop at once, then cleanup(); a second signal exits
 * at once. Last resort, on 'exit': the children are killed and the temporary directory removed.
 */
function installSignalHandlers(): void {
  installExitCleanup({
    command: "chaos",
    doing: "stopping the app and QuestDB…",
    exitCode: 130,
    stopPolitely: () => {
      abort.abort();
      return cleanup();
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Phases

async function ensureBuild(force: boolean): Promise<"reused" | "built"> {
  if (!force && fs.existsSync(path.join(ROOT, ".next", "BUILD_ID"))) return "reused";
  const why = force ? "building the app (--build)…" : "no production build (.next/BUILD_ID), building…";
  console.log(`chaos: ${why}`);
  await nextBuild({ dir: ROOT, signal: abort.signal });
  return "built";
}

async function startSeededQuestdb(
  build: "reused" | "built",
): Promise<{ questdb: QuestdbProcess; seeded: SoakRun["seeded"] }> {
  running.tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "chaos-"));
  running.removeTempDir = trackTempDir(running.tempDir);
  console.log(`chaos: starting QuestDB and seeding it (build ${build})…`);
  const questdb = await startTestQuestdb({ dataDir: path.join(running.tempDir, "questdb") });
  running.questdb = questdb;
  const seeded = await seedDemoData({ pgUrl: questdb.pgUrl, httpUrl: questdb.httpUrl });
  return { questdb, seeded };
}

async function startSoakApp(questdb: QuestdbProcess, options: Options, poolMax: number): Promise<AppProcess> {
  const appEnv: Record<string, string> = {
    ...APP_ENV,
    QUESTDB_POOL_MAX: String(poolMax),
    QUESTDB_URL: questdb.pgUrl,
    QUESTDB_HTTP_URL: questdb.httpUrl,
    DASHBOARD_DATA_DIR: path.join(running.tempDir!, "data"),
  };
  const app = await startApp({
    root: ROOT,
    port: await findFreePort(),
    env: appEnv,
    logFile: path.join(running.tempDir!, "app.log"),
  });
  running.app = app;
  console.log(
    `chaos: app pid ${app.pid} on ${app.url}, QuestDB pg ${questdb.pgPort}; ` +
      `${options.clients} clients for ${options.durationS} s, seed ${options.seed}`,
  );
  return app;
}

type ChaosOutcome = Pick<SoakRun, "stats" | "schedule" | "chaosEnd" | "restartDoneAt" | "recovery">;

/**
 * The clients poll while the schedule kills and freezes QuestDB; then the final restart, the wait
 * for `ok` answers, and the clients stop. Null when the soak was interrupted.
 */
async function runClientsUnderChaos(
  options: Options,
  app: AppProcess,
  questdb: QuestdbProcess,
  chaosStart: number,
): Promise<ChaosOutcome | null> {
  const schedule = new ChaosSchedule(questdb, chaosStart, sleep);
  const stats = new ClientStats(chaosStart, DISTINCT_INPUTS_NOTED, () => schedule.upSince);
  const master = new Rng(options.seed);
  // The schedule's generator is forked first, so a seed gives the same chaos whatever --clients is.
  const scheduleRng = master.fork();
  let clientsStopped = false;
  const clients = Array.from({ length: options.clients }, () =>
    runClient({
      baseUrl: app.url,
      rng: master.fork(),
      stats,
      thinkMs: options.thinkMs,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      stopped: () => clientsStopped || stopping,
      sleep,
    }),
  );
  const completed = await schedule.run(scheduleRng, options.durationS * 1000, () => abort.signal.aborted);
  if (!completed) return null;
  const chaosEnd = Date.now();

  const restartDoneAt = await schedule.finalRestart();
  const recovery = await awaitRecovery(stats, restartDoneAt);
  await sleep(2_000); // a little steady state after recovery
  clientsStopped = true;
  await Promise.all(clients);
  if (abort.signal.aborted) return null;
  return { stats, schedule, chaosEnd, restartDoneAt, recovery };
}

/** Until every data procedure and /api/health has answered `ok` since the last restart (or RECOVERY_WAIT_MS). */
async function awaitRecovery(stats: ClientStats, restartDoneAt: number): Promise<SoakRun["recovery"]> {
  const recovery: SoakRun["recovery"] = {
    since: restartDoneAt,
    firstOk: Object.fromEntries(DATA_PROCEDURES.map((p) => [p, null])) as Record<
      (typeof DATA_PROCEDURES)[number],
      null
    >,
    healthOk: null,
  };
  stats.recovery = recovery;
  while (Date.now() - restartDoneAt < RECOVERY_WAIT_MS && !abort.signal.aborted) {
    if (DATA_PROCEDURES.every((p) => recovery.firstOk[p] !== null) && recovery.healthOk !== null) break;
    await sleep(50);
  }
  return recovery;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  installSignalHandlers();
  const poolMax = Number(process.env.QUESTDB_POOL_MAX?.trim() || "10");
  const startedAtIso = new Date().toISOString();

  const build = await ensureBuild(options.build);
  if (abort.signal.aborted) return 130;
  const { questdb, seeded } = await startSeededQuestdb(build);
  if (abort.signal.aborted) return 130;
  const app = await startSoakApp(questdb, options, poolMax);

  const chaosStart = Date.now();
  const sampling = startSamplers({ appPid: app.pid, appUrl: app.url, pgPort: questdb.pgPort, chaosStart });
  running.stopSamplers = sampling.stop;
  const outcome = await runClientsUnderChaos(options, app, questdb, chaosStart);
  if (!outcome) return 130;
  sampling.stop();

  const run: SoakRun = {
    options,
    poolMax,
    build,
    startedAtIso,
    finishedAt: Date.now(),
    seeded,
    app: { pid: app.pid, alive: app.isRunning(), exit: app.exit() },
    ...outcome,
    samples: sampling.samples,
    rssEndKb: rssKb(app.pid),
    logScan: scanLog(app.log()),
  };
  const figures = figuresOf(run);
  const report = buildReport(run, figures, soakChecks(run, figures));
  writeReport(report, options.out, app.logFile);
  console.log(summaryText(run, figures, report));
  return report.ok ? 0 : 1;
}

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    // After Ctrl-C the children are being killed under the soak's feet: that is not news.
    if (!abort.signal.aborted) console.error(`chaos: ${error instanceof Error ? error.message : String(error)}`);
    await cleanup();
    process.exit(2);
  });
