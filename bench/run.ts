import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { UNHANDLED_ERROR_LINE } from "../harness/app-process";
import { QUESTDB_VERSION, findFreePorts, startTestQuestdb, type QuestdbProcess } from "../harness/questdb-process";
import { seedDemoData } from "../demo/seed";
import { cleanupNow, installExitCleanup, trackTempDir } from "../harness/exit-cleanup";
import { FIGURES, SCENARIOS } from "./catalogue";
import { closeAgent } from "./lib/http";
import { ROOT, buildApp, startApp, startBaselineServer, type Build, type ServerProcess } from "./lib/processes";
import { buildReport, writeReadmeFigures, writeReport, type Machine } from "./lib/report";
import type { BenchContext, Figures } from "./lib/types";

/**
 * `npm run bench`: builds the app, starts its own QuestDB (seeded), the app (`next start`) and the
 * plain-pg baseline server, runs every scenario, and writes bench/results/latest.json and
 * latest.md, and the figures table into README.md between its bench:figures markers. Every child
 * process and temporary directory is removed at the end, however it ends.
 *
 * BENCH_SKIP_BUILD=1 uses the repository's existing `.next`; BENCH_QUICK=1 makes fewer, shorter
 * runs and writes bench/results/quick.*.tmp instead (for working on the benchmark itself);
 * BENCH_ONLY=viewers,kill (of overhead, throughput, viewers, kill, freeze, fleet, sseViewers) runs only
 * those, also to the .tmp files. Neither touches README.md. The scenarios and their figures are listed in
 * bench/catalogue.ts.
 *
 * The phases, in order: build → QuestDB (seeded) → app and baseline → scenarios → report → stop.
 * The fleet scenario starts (and stops) its own further app instances, Redis and nginx.
 */

const startedAt = performance.now();
/** BENCH_ONLY=viewers,kill runs only those scenarios (and, like BENCH_QUICK, writes the .tmp files). */
const only = (process.env.BENCH_ONLY ?? "")
  .split(",")
  .map((name) => name.trim())
  .filter(Boolean);
const SCENARIO_NAMES = SCENARIOS.map((scenario) => scenario.name);
for (const name of only) {
  if (!SCENARIO_NAMES.includes(name))
    throw new Error(`BENCH_ONLY: unknown scenario "${name}" (known: ${SCENARIO_NAMES.join(", ")})`);
}
const quick = process.env.BENCH_QUICK === "1";
const partial = quick || only.length > 0;

function stamp(): string {
  const s = Math.floor((performance.now() - startedAt) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function progress(message: string): void {
  console.log(`[bench ${stamp()}] ${message}`);
}

function javaVersion(): string {
  const result = spawnSync("java", ["-version"], { encoding: "utf8" });
  const line = `${result.stderr ?? ""}${result.stdout ?? ""}`.split("\n").find((l) => l.includes("version")) ?? "";
  const match = /version "([^"]+)"/.exec(line);
  return match ? `Java ${match[1]}` : "Java (unknown version)";
}

async function questdbBuild(pgUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 5_000, query_timeout: 5_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const result = await client.query<Record<string, string>>("SELECT build()");
    return Object.values(result.rows[0] ?? {})[0] ?? "unknown";
  } catch {
    return "unknown";
  } finally {
    await client.end().catch(() => undefined);
  }
}

const loadAverage = () => os.loadavg().map((l) => Math.round(l * 100) / 100);

// ---------------------------------------------------------------------------------------------
// Phases

/** The child processes started so far, so they are stopped however the run ends. */
interface Running {
  questdb?: QuestdbProcess;
  app?: ServerProcess;
  baseline?: ServerProcess;
}

interface Started {
  build: Build;
  /** The app's QuestDB settings, for the instances a scenario starts beside it. */
  appEnv: Record<string, string>;
  seeded: { trades: number; sessionEvents: number };
  questdbBuildInfo: string;
  questdb: QuestdbProcess;
  app: ServerProcess;
  baseline: ServerProcess;
}

async function startEverything(work: string, running: Running): Promise<Started> {
  progress(
    process.env.BENCH_SKIP_BUILD === "1"
      ? "using the existing .next build (BENCH_SKIP_BUILD=1)"
      : "next build (in a private copy of the tree) …",
  );
  const build = await buildApp(path.join(work, "build.log"));
  if (build.isolated) progress(`built in ${build.seconds.toFixed(0)} s`);

  progress("starting QuestDB and seeding demo data …");
  const questdb = (running.questdb = await startTestQuestdb({ dataDir: path.join(work, "questdb") }));
  const seeded = await seedDemoData({ pgUrl: questdb.pgUrl, httpUrl: questdb.httpUrl });
  const questdbBuildInfo = await questdbBuild(questdb.pgUrl);
  progress(
    `QuestDB ${QUESTDB_VERSION} on pg ${questdb.pgPort}: ${seeded.trades} trades, ` +
      `${seeded.sessionEvents} session events`,
  );

  const [appPort, baselinePort] = await findFreePorts(2);
  const appEnv = { QUESTDB_URL: questdb.pgUrl, QUESTDB_HTTP_URL: questdb.httpUrl };
  const [app, baseline] = ([running.app, running.baseline] = await Promise.all([
    startApp(build, appPort!, { ...appEnv, DASHBOARD_DATA_DIR: path.join(work, "data") }, path.join(work, "app.log")),
    startBaselineServer(questdb.pgUrl, baselinePort!, path.join(work, "baseline.log")),
  ]));
  progress(`app (next start, default settings, LOG_LEVEL=warn) on ${app.url}; plain-pg baseline on ${baseline.url}`);
  return { build, appEnv, seeded, questdbBuildInfo, questdb, app, baseline };
}

/** After a failed scenario: QuestDB running and not frozen, so the next scenario starts clean. */
async function restore(questdb: QuestdbProcess): Promise<void> {
  questdb.thaw();
  if (!questdb.isRunning()) await questdb.restart();
}

/** Runs the selected scenarios one after the other; a failed one is recorded and the next one still runs. */
async function runScenarios(
  ctx: BenchContext,
): Promise<{ results: Figures; errors: Record<string, string>; failed: boolean }> {
  const results: Figures = {};
  const errors: Record<string, string> = {};
  let failed = false;
  for (const { name, figures: specs, title, run } of SCENARIOS) {
    if (only.length && !only.includes(name)) continue;
    const keys = specs.map((spec) => spec.key);
    progress(`${title} …`);
    const t = performance.now();
    try {
      const figures = await run(ctx);
      Object.assign(results, figures);
      // A scenario may report one of its figures failed and still measure the others.
      const failedKeys = keys.filter((key) => figures[key]?.error !== undefined);
      for (const key of failedKeys) errors[key] = figures[key]!.error!.replace(`${key}: `, "");
      if (failedKeys.length) {
        failed = true;
        await restore(ctx.questdb).catch((e: unknown) => progress(`could not restore QuestDB: ${String(e)}`));
      }
      progress(
        `${title}: done in ${((performance.now() - t) / 1000).toFixed(0)} s` +
          (failedKeys.length ? ` (failed: ${failedKeys.join(", ")})` : ""),
      );
    } catch (error) {
      failed = true;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      for (const key of keys) errors[key] = message;
      progress(`${title}: FAILED — ${message}`);
      await restore(ctx.questdb).catch((e: unknown) => progress(`could not restore QuestDB: ${String(e)}`));
    }
  }
  return { results, errors, failed };
}

function machine(questdbBuildInfo: string, loadAverageAtStart: number[]): Machine {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
    node: process.version,
    questdb: QUESTDB_VERSION,
    questdbBuild: questdbBuildInfo,
    java: javaVersion(),
    platform: `${os.platform()} ${os.release()}`,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    loadAverageAtStart,
    loadAverageAtEnd: loadAverage(),
  };
}

/**
 * Writes latest.* and README's table (or only quick.*.tmp for a partial run), prints the markdown;
 * true when every figure was measured.
 */
function writeResults(
  started: Started,
  scenarios: Awaited<ReturnType<typeof runScenarios>>,
  loadAverageAtStart: number[],
): boolean {
  const { build, seeded, app } = started;
  const appLog = app.log();
  const { report, all } = buildReport(FIGURES, scenarios.results, scenarios.errors, {
    date: new Date(),
    quick: partial, // a partial run never overwrites latest.*
    durationSeconds: (performance.now() - startedAt) / 1000,
    machine: machine(started.questdbBuildInfo, loadAverageAtStart),
    setup: {
      build: build.isolated
        ? `next build in a private copy (${build.seconds.toFixed(0)} s)`
        : "existing .next (BENCH_SKIP_BUILD=1)",
      app: "next start, default QUESTDB_* settings, LOG_LEVEL=warn",
      baseline: "bench/baseline-server.ts: node:http + pg.Pool with defaults, no timeout, no retry",
      fleet:
        "further next start instances of the same build and settings (own DASHBOARD_DATA_DIR each), " +
        "redis-server and nginx round-robin (harness/), started and stopped by the fleet scenario",
      questdb:
        `QuestDB ${QUESTDB_VERSION}, fresh temporary data directory, demo data ` +
        `(${seeded.trades} trades, ${seeded.sessionEvents} session events)`,
      appStillRunning: app.isRunning(),
      appCrashOrUnhandledLines: appLog
        .split("\n")
        .filter((line) => UNHANDLED_ERROR_LINE.test(line))
        .slice(0, 20),
      appLogLines: appLog.split("\n").filter((l) => l.trim() !== "").length,
    },
  });
  const written = writeReport(path.join(ROOT, "bench", "results"), report, all, FIGURES);
  progress(`wrote ${path.relative(ROOT, written.json)} and ${path.relative(ROOT, written.md)}`);
  if (!partial) {
    const wroteReadme = writeReadmeFigures(path.join(ROOT, "README.md"), report, all);
    progress(
      wroteReadme
        ? "wrote the figures table into README.md"
        : "README.md has no bench:figures markers: its table was left as it is",
    );
  }
  console.log("");
  console.log(readFileSync(written.md, "utf8"));
  return FIGURES.every(({ key }) => report.figures[key] !== null);
}

async function stopEverything(running: Running): Promise<void> {
  progress("stopping the app, the baseline server and QuestDB …");
  await Promise.allSettled([running.app?.stop(), running.baseline?.stop()]);
  await running.questdb?.stop().catch(() => undefined);
  closeAgent();
  cleanupNow();
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  installExitCleanup({ command: "bench", doing: "stopping every child process and removing temporary files" });
  const loadAverageAtStart = loadAverage();
  progress(`${quick ? "QUICK run, " : ""}${os.cpus().length} CPUs, load average ${loadAverageAtStart.join(" ")}`);
  const work = mkdtempSync(path.join(os.tmpdir(), "bench-run-"));
  const keep = process.env.BENCH_KEEP === "1";
  if (!keep) trackTempDir(work);

  const running: Running = {};
  let exitCode = 0;
  try {
    const started = await startEverything(work, running);
    const scenarios = await runScenarios({
      questdb: started.questdb,
      app: started.app,
      baseline: started.baseline,
      build: started.build,
      appEnv: started.appEnv,
      workDir: work,
      quick,
      progress,
    });
    if (scenarios.failed) exitCode = 1;
    const everyFigure = writeResults(started, scenarios, loadAverageAtStart);
    // BENCH_ONLY leaves the other figures unmeasured on purpose.
    if (!only.length && !everyFigure) exitCode = 1;
    if (keep) progress(`BENCH_KEEP=1: logs and QuestDB data kept in ${work}`);
  } finally {
    await stopEverything(running);
  }
  progress(`finished in ${stamp()} (mm:ss)`);
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      `[bench ${stamp()}] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    cleanupNow();
    process.exit(1);
  },
);
