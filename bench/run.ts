import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { QUESTDB_VERSION, findFreePorts, startTestQuestdb, type QuestdbProcess } from "../harness/questdb-process";
import { seedDemoData } from "../domain/seed";
import { cleanupNow, installCleanup, trackTempDir } from "./lib/cleanup";
import { closeAgent } from "./lib/http";
import { ROOT, buildApp, startApp, startBaselineServer, type ServerProcess } from "./lib/processes";
import { FIGURE_KEYS, buildReport, writeReport, type FigureKey, type Machine } from "./lib/report";
import type { BenchContext, FigureResult } from "./lib/types";
import { overheadRatio } from "./scenarios/overhead";
import { hangFigure, killFigures } from "./scenarios/outage";
import { throughputRps } from "./scenarios/throughput";
import { dbQueriesPerViewerPoll } from "./scenarios/viewers";

/**
 * `npm run bench`: builds the app, starts its own QuestDB (seeded), the app (`next start`) and the
 * plain-pg baseline server, runs every scenario, and writes bench/results/latest.json and
 * latest.md. Every child process and temporary directory is removed at the end, however it ends.
 *
 * BENCH_SKIP_BUILD=1 uses the repository's existing `.next`; BENCH_QUICK=1 makes fewer, shorter
 * runs and writes bench/results/quick.*.tmp instead (for working on the benchmark itself);
 * BENCH_ONLY=viewers,kill (of overhead, throughput, viewers, kill, freeze) runs only those, also to
 * the .tmp files.
 */

const startedAt = performance.now();
/** BENCH_ONLY=viewers,kill runs only those scenarios (and, like BENCH_QUICK, writes the .tmp files). */
const only = (process.env.BENCH_ONLY ?? "").split(",").map((name) => name.trim()).filter(Boolean);
const SCENARIOS = ["overhead", "throughput", "viewers", "kill", "freeze"];
for (const name of only) {
  if (!SCENARIOS.includes(name)) throw new Error(`BENCH_ONLY: unknown scenario "${name}" (known: ${SCENARIOS.join(", ")})`);
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

/** After a failed scenario: QuestDB running and not frozen, so the next scenario starts clean. */
async function restore(questdb: QuestdbProcess): Promise<void> {
  questdb.thaw();
  if (!questdb.isRunning()) await questdb.restart();
}

async function main(): Promise<number> {
  installCleanup();
  const loadAverageAtStart = os.loadavg().map((l) => Math.round(l * 100) / 100);
  progress(`${quick ? "QUICK run, " : ""}${os.cpus().length} CPUs, load average ${loadAverageAtStart.join(" ")}`);
  const work = mkdtempSync(path.join(os.tmpdir(), "bench-run-"));
  const keep = process.env.BENCH_KEEP === "1";
  if (!keep) trackTempDir(work);

  let questdb: QuestdbProcess | undefined;
  let app: ServerProcess | undefined;
  let baseline: ServerProcess | undefined;
  const results: Partial<Record<FigureKey, FigureResult>> = {};
  const errors: Partial<Record<FigureKey, string>> = {};
  let exitCode = 0;

  try {
    progress(process.env.BENCH_SKIP_BUILD === "1" ? "using the existing .next build (BENCH_SKIP_BUILD=1)" : "next build (in a private copy of the tree) …");
    const build = await buildApp(path.join(work, "build.log"));
    if (build.isolated) progress(`built in ${build.seconds.toFixed(0)} s`);

    progress("starting QuestDB and seeding demo data …");
    questdb = await startTestQuestdb({ dataDir: path.join(work, "questdb") });
    const seeded = await seedDemoData({ pgUrl: questdb.pgUrl, httpUrl: questdb.httpUrl });
    const questdbBuildInfo = await questdbBuild(questdb.pgUrl);
    progress(`QuestDB ${QUESTDB_VERSION} on pg ${questdb.pgPort}: ${seeded.trades} trades, ${seeded.sessionEvents} session events`);

    const [appPort, baselinePort] = await findFreePorts(2);
    const appEnv = { QUESTDB_URL: questdb.pgUrl, QUESTDB_HTTP_URL: questdb.httpUrl };
    [app, baseline] = await Promise.all([
      startApp(build, appPort!, appEnv, path.join(work, "app.log")),
      startBaselineServer(questdb.pgUrl, baselinePort!, path.join(work, "baseline.log")),
    ]);
    progress(`app (next start, default settings, LOG_LEVEL=warn) on ${app.url}; plain-pg baseline on ${baseline.url}`);

    const ctx: BenchContext = { questdb, app, baseline, quick, progress };
    const scenario = async (name: string, keys: FigureKey[], title: string, fn: () => Promise<Partial<Record<FigureKey, FigureResult>>>) => {
      if (only.length && !only.includes(name)) return;
      progress(`${title} …`);
      const t = performance.now();
      try {
        Object.assign(results, await fn());
        progress(`${title}: done in ${((performance.now() - t) / 1000).toFixed(0)} s`);
      } catch (error) {
        exitCode = 1;
        const message = error instanceof Error ? error.stack ?? error.message : String(error);
        for (const key of keys) errors[key] = message;
        progress(`${title}: FAILED — ${message}`);
        await restore(ctx.questdb).catch((e: unknown) => progress(`could not restore QuestDB: ${String(e)}`));
      }
    };

    await scenario("overhead", ["overheadRatio"], "overheadRatio (in-process, interleaved)", async () => ({ overheadRatio: await overheadRatio(ctx) }));
    await scenario("throughput", ["throughputRps"], "throughputRps (autocannon, 64 connections)", async () => ({ throughputRps: await throughputRps(ctx) }));
    await scenario("viewers", ["dbQueriesPerViewerPoll"], "dbQueriesPerViewerPoll (200 viewers every 2 s)", async () => ({
      dbQueriesPerViewerPoll: await dbQueriesPerViewerPoll(ctx),
    }));
    await scenario("kill", ["killToDegradedMs", "breakerOpenP99Ms", "recoveryMs"], "kill episodes (killToDegradedMs, breakerOpenP99Ms, recoveryMs)", async () => ({
      ...(await killFigures(ctx)),
    }));
    await scenario("freeze", ["hangToDegradedMs"], "freeze episodes (hangToDegradedMs)", async () => ({ hangToDegradedMs: await hangFigure(ctx) }));

    const appLog = app.log();
    const crashLines = appLog
      .split("\n")
      .filter((line) => /unhandled_rejection|uncaughtException|Unhandled|"level":"fatal"|⨯ /.test(line));
    const machine: Machine = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
      node: process.version,
      questdb: QUESTDB_VERSION,
      questdbBuild: questdbBuildInfo,
      java: javaVersion(),
      platform: `${os.platform()} ${os.release()}`,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      loadAverageAtStart,
      loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100),
    };
    const { report, all } = buildReport(results, errors, {
      date: new Date(),
      quick: partial, // a partial run never overwrites latest.*
      durationSeconds: (performance.now() - startedAt) / 1000,
      machine,
      setup: {
        build: build.isolated ? `next build in a private copy (${build.seconds.toFixed(0)} s)` : "existing .next (BENCH_SKIP_BUILD=1)",
        app: "next start, default QUESTDB_* settings, LOG_LEVEL=warn",
        baseline: "bench/baseline-server.ts: node:http + pg.Pool with defaults, no timeout, no retry",
        questdb: `QuestDB ${QUESTDB_VERSION}, fresh temporary data directory, demo data (${seeded.trades} trades, ${seeded.sessionEvents} session events)`,
        appStillRunning: app.isRunning(),
        appCrashOrUnhandledLines: crashLines.slice(0, 20),
        appLogLines: appLog.split("\n").filter((l) => l.trim() !== "").length,
      },
    });
    const written = writeReport(path.join(ROOT, "bench", "results"), report, all);
    progress(`wrote ${path.relative(ROOT, written.json)} and ${path.relative(ROOT, written.md)}`);
    console.log("");
    console.log(readFileSync(written.md, "utf8"));
    if (!only.length) for (const key of FIGURE_KEYS) if (report.figures[key] === null) exitCode = 1;
    if (keep) progress(`BENCH_KEEP=1: logs and QuestDB data kept in ${work}`);
  } finally {
    progress("stopping the app, the baseline server and QuestDB …");
    await Promise.allSettled([app?.stop(), baseline?.stop()]);
    await questdb?.stop().catch(() => undefined);
    closeAgent();
    cleanupNow();
  }
  progress(`finished in ${stamp()} (mm:ss)`);
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[bench ${stamp()}] failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    cleanupNow();
    process.exit(1);
  },
);
