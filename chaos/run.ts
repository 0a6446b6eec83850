import { spawn, type ChildProcess } from "node:child_process";
import { setMaxListeners } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { CACHE_MAX_ENTRIES } from "../server/questdb/service";
import { UNHANDLED_ERROR_LINE, startApp, type AppProcess } from "../harness/app-process";
import { killLiveChildren, killWithThisProcess } from "../harness/child-cleanup";
import { ClientStats, DATA_PROCEDURES, runClient } from "./clients";
import { Rng } from "../harness/prng";
import { connectionsTo, processTree, rssKb } from "../harness/proc";
import { findFreePort, startTestQuestdb, type QuestdbProcess } from "../harness/questdb-process";
import { percentile } from "../harness/stats";
import { seedDemoData } from "../domain/seed";

/**
 * `npm run chaos [-- --duration <s>] [--seed <n>] [--build] [--clients <n>] [--think-ms <min>-<max>]`
 *
 * A soak of the production build against a real, seeded QuestDB: 50 clients poll every procedure
 * (and GET /api/health) with valid, varied inputs while QuestDB is killed and restarted, frozen and
 * thawed at seeded random intervals of 3–15 s. The run ends with a last kill and restart, and
 * measures how soon `ok` answers come back. Writes bench/results/chaos.json, prints a summary and
 * exits non-zero when a check fails. Every child process and the temporary directory are removed,
 * also on failure or Ctrl-C.
 */

const ROOT = path.resolve(__dirname, "..");
const DEFAULT_RESULT_FILE = path.join(ROOT, "bench", "results", "chaos.json");
/** Where the app's log is kept when a check fails (test-results/ is ignored by git). */
const FAILED_LOG_FILE = path.join(ROOT, "test-results", "chaos-app.log");

const INTERVAL_MS: readonly [number, number] = [3_000, 15_000];
const RECOVERY_LIMIT_MS = 5_000;
const RECOVERY_WAIT_MS = 20_000;
/** Down time of the final kill before the last restart. */
const FINAL_DOWN_MS = 3_000;
/** A request that takes longer than this is a hang. */
const REQUEST_TIMEOUT_MS = 15_000;
const CONNECTION_SAMPLE_MS = 200;
const RSS_SAMPLE_MS = 1_000;
/** The V8 heap (from the app's /api/metrics): its floor tells retained memory from GC slack. */
const HEAP_SAMPLE_MS = 2_000;

/** The soak's app configuration: a short breaker recovery and a fast health check. */
const APP_ENV = {
  QUESTDB_BREAKER_RECOVERY_MS: "5000",
  QUESTDB_HEALTH_INTERVAL_MS: "500",
  LOG_LEVEL: "info",
};

// ---------------------------------------------------------------------------------------------
// Arguments

interface Options {
  durationS: number;
  seed: number;
  build: boolean;
  clients: number;
  thinkMs: [number, number];
  /** Where the JSON report goes (npm test writes its short run under test-results/). */
  out: string;
}

function usage(): string {
  return "usage: npm run chaos -- [--duration <seconds>] [--seed <n>] [--build] [--clients <n>] [--think-ms <min>-<max>] [--out <file>]";
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: "string", default: "180" },
      seed: { type: "string", default: "20261127" },
      build: { type: "boolean", default: false },
      clients: { type: "string", default: "50" },
      "think-ms": { type: "string", default: "100-900" },
      out: { type: "string", default: DEFAULT_RESULT_FILE },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(usage());
    process.exit(0);
  }
  const int = (name: string, text: string, min: number) => {
    if (!/^\d+$/.test(text.trim()) || Number(text) < min) throw new Error(`--${name} must be an integer >= ${min}, got "${text}"`);
    return Number(text);
  };
  const think = /^(\d+)-(\d+)$/.exec(values["think-ms"].trim());
  if (!think || Number(think[1]) > Number(think[2])) throw new Error(`--think-ms must be <min>-<max>, got "${values["think-ms"]}"`);
  return {
    durationS: int("duration", values.duration, 5),
    seed: int("seed", values.seed, 0),
    build: values.build,
    clients: int("clients", values.clients, 1),
    thinkMs: [Number(think[1]), Number(think[2])],
    out: path.resolve(values.out),
  };
}

// ---------------------------------------------------------------------------------------------
// Children and clean-up

let app: AppProcess | null = null;
let questdb: QuestdbProcess | null = null;
let buildChild: ChildProcess | null = null;
let tempDir: string | null = null;
let stopping = false;
const abort = new AbortController();
// Every sleeping client listens for Ctrl-C on the same signal.
setMaxListeners(10_000, abort.signal);
const timers: NodeJS.Timeout[] = [];
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

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    stopping = true;
    for (const timer of timers) clearInterval(timer);
    buildChild?.kill("SIGKILL");
    await app?.stop().catch(() => undefined);
    if (questdb) {
      questdb.thaw();
      await questdb.stop().catch(() => undefined);
    }
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
    tempDir = null;
  })();
  return cleaning;
}

function installSignalHandlers(): void {
  let signalled = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (signalled) process.exit(130); // a second Ctrl-C: the 'exit' handler still kills what is left
      signalled = true;
      console.error(`\nchaos: ${signal}, stopping the app and QuestDB…`);
      abort.abort();
      void cleanup().finally(() => process.exit(130));
    });
  }
  // Last resort, synchronous: the launchers kill QuestDB, the app and the build with this process
  // (harness/child-cleanup.ts); the temporary directory goes once those kills are sent.
  process.on("exit", () => {
    void killLiveChildren();
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  });
}

// ---------------------------------------------------------------------------------------------
// Build

async function ensureBuild(force: boolean): Promise<"reused" | "built"> {
  if (!force && fs.existsSync(path.join(ROOT, ".next", "BUILD_ID"))) return "reused";
  console.log(force ? "chaos: building the app (--build)…" : "chaos: no production build (.next/BUILD_ID), building…");
  const code = await new Promise<number | null>((resolve) => {
    buildChild = spawn(path.join(ROOT, "node_modules/.bin/next"), ["build"], {
      cwd: ROOT,
      stdio: "inherit",
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    });
    killWithThisProcess(buildChild);
    buildChild.once("error", () => resolve(-1));
    buildChild.once("exit", (exitCode) => resolve(exitCode));
  });
  buildChild = null;
  if (code !== 0) throw new Error(`next build failed (exit code ${String(code)})`);
  return "built";
}

// ---------------------------------------------------------------------------------------------
// Chaos

type QuestdbState = "up" | "killed" | "frozen";
type Action = "kill" | "freeze" | "thaw" | "restart";

interface ChaosEvent {
  atS: number;
  action: Action;
  tookMs: number;
  final?: boolean;
}

async function act(action: Action): Promise<void> {
  const q = questdb!;
  switch (action) {
    case "kill":
      await q.kill();
      return;
    case "freeze":
      q.freeze();
      return;
    case "thaw":
      q.thaw();
      return;
    case "restart":
      await q.restart();
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Figures


const mb = (kb: number | null | undefined) => (kb === null || kb === undefined ? null : Math.round(kb / 102.4) / 10);

interface LogScan {
  lines: number;
  /** Epoch ms of each questdb.breaker_opened line. */
  breakerOpenedAt: number[];
  events: Record<string, number>;
  unhandled: string[];
  http5xx: number;
  unexpectedErrors: number;
  emptyFields: number;
}


function scanLog(text: string): LogScan {
  const scan: LogScan = { lines: 0, breakerOpenedAt: [], events: {}, unhandled: [], http5xx: 0, unexpectedErrors: 0, emptyFields: 0 };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    scan.lines++;
    if (UNHANDLED_ERROR_LINE.test(line)) scan.unhandled.push(line.slice(0, 500));
    if (!line.startsWith("{")) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const event = typeof entry.event === "string" ? entry.event : "(none)";
    scan.events[event] = (scan.events[event] ?? 0) + 1;
    if (event === "http.request" && typeof entry.status === "number" && entry.status >= 500) scan.http5xx++;
    if (event === "trpc.unexpected_error") scan.unexpectedErrors++;
    if (event === "questdb.breaker_opened" && typeof entry.time === "string") scan.breakerOpenedAt.push(Date.parse(entry.time));
    for (const field of ["error", "message"]) {
      if (field in entry && String(entry[field]).trim() === "") scan.emptyFields++;
    }
  }
  return scan;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  installSignalHandlers();
  const poolMax = Number(process.env.QUESTDB_POOL_MAX?.trim() || "10");
  const durationMs = options.durationS * 1000;
  const startedAtIso = new Date().toISOString();

  const build = await ensureBuild(options.build);
  if (abort.signal.aborted) return 130;
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "chaos-"));

  console.log(`chaos: starting QuestDB and seeding it (build ${build})…`);
  questdb = await startTestQuestdb({ dataDir: path.join(tempDir, "questdb") });
  const seeded = await seedDemoData({ pgUrl: questdb.pgUrl, httpUrl: questdb.httpUrl });
  if (abort.signal.aborted) return 130;

  const appEnv: Record<string, string> = {
    ...APP_ENV,
    QUESTDB_POOL_MAX: String(poolMax),
    QUESTDB_URL: questdb.pgUrl,
    QUESTDB_HTTP_URL: questdb.httpUrl,
  };
  app = await startApp({ root: ROOT, port: await findFreePort(), env: appEnv, logFile: path.join(tempDir, "app.log") });
  const appPid = app.pid;
  const pgPort = questdb.pgPort;
  console.log(
    `chaos: app pid ${appPid} on ${app.url}, QuestDB pg ${pgPort}; ${options.clients} clients for ${options.durationS} s, seed ${options.seed}`,
  );

  // Samplers: connections from the kernel's socket table, memory from /proc/<pid>/status.
  let pids = processTree(appPid);
  let connectionSamples = 0;
  let maxEstablished = 0;
  let maxAnyState = 0;
  let maxEstablishedAt = 0;
  const chaosStart = Date.now();
  const rssSeries: { t: number; kb: number }[] = [];
  const rssStartKb = rssKb(appPid);
  let rssPeakKb = rssStartKb ?? 0;
  const connPerSecond: number[] = [];
  const heapSeries: { t: number; kb: number }[] = [];
  let heapSampling = false;
  timers.push(
    setInterval(() => {
      const count = connectionsTo(pgPort, pids);
      connectionSamples++;
      if (count.established > maxEstablished) {
        maxEstablished = count.established;
        maxEstablishedAt = (Date.now() - chaosStart) / 1000;
      }
      maxAnyState = Math.max(maxAnyState, count.any);
      const second = Math.floor((Date.now() - chaosStart) / 1000);
      connPerSecond[second] = Math.max(connPerSecond[second] ?? 0, count.established);
    }, CONNECTION_SAMPLE_MS),
    setInterval(() => {
      const kb = rssKb(appPid);
      if (kb === null) return;
      rssSeries.push({ t: (Date.now() - chaosStart) / 1000, kb });
      rssPeakKb = Math.max(rssPeakKb, kb);
    }, RSS_SAMPLE_MS),
    setInterval(() => (pids = processTree(appPid)), 5_000),
    setInterval(() => {
      if (heapSampling) return;
      heapSampling = true;
      void fetch(`${app!.url}/api/metrics`, { signal: AbortSignal.timeout(5_000) })
        .then((res) => res.text())
        .then((text) => {
          const match = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+?\d+)?)$/m.exec(text);
          if (match) heapSeries.push({ t: (Date.now() - chaosStart) / 1000, kb: Number(match[1]) / 1024 });
        })
        .catch(() => undefined)
        .finally(() => (heapSampling = false));
    }, HEAP_SAMPLE_MS),
  );

  // Clients.
  let upSince: number | null = chaosStart;
  const stats = new ClientStats(chaosStart, CACHE_MAX_ENTRIES, () => upSince);
  const master = new Rng(options.seed);
  const scheduleRng = master.fork();
  let clientsStopped = false;
  const clients = Array.from({ length: options.clients }, () =>
    runClient({
      baseUrl: app!.url,
      rng: master.fork(),
      stats,
      thinkMs: options.thinkMs,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      stopped: () => clientsStopped || stopping,
      sleep,
    }),
  );

  // Chaos: up → kill or freeze → restart or thaw → up …, 3–15 s apart, until the duration is over.
  const events: ChaosEvent[] = [];
  const states: { atS: number; state: QuestdbState }[] = [{ atS: 0, state: "up" }];
  let state = "up" as QuestdbState; // changed by perform(), which TypeScript cannot see
  const perform = async (action: Action, final = false) => {
    const started = Date.now();
    // A fault starts when the signal is sent; QuestDB is up again once it answers (restart) or runs (thaw).
    const fault = action === "kill" || action === "freeze";
    const next: QuestdbState = action === "kill" ? "killed" : action === "freeze" ? "frozen" : "up";
    if (fault) {
      upSince = null;
      states.push({ atS: (started - chaosStart) / 1000, state: next });
    }
    await act(action);
    const event: ChaosEvent = { atS: (started - chaosStart) / 1000, action, tookMs: Date.now() - started, ...(final ? { final } : {}) };
    events.push(event);
    state = next;
    if (!fault) {
      upSince = Date.now();
      states.push({ atS: (upSince - chaosStart) / 1000, state: next });
    }
    console.log(`chaos: +${event.atS.toFixed(1)} s ${action}${action === "restart" ? ` (${(event.tookMs / 1000).toFixed(1)} s)` : ""}`);
  };
  for (;;) {
    const waitMs = scheduleRng.int(INTERVAL_MS[0], INTERVAL_MS[1]);
    const left = durationMs - (Date.now() - chaosStart);
    if (waitMs >= left) {
      await sleep(Math.max(0, left));
      break;
    }
    await sleep(waitMs);
    if (abort.signal.aborted) return 130;
    const action: Action = state === "up" ? (scheduleRng.chance(0.5) ? "kill" : "freeze") : state === "killed" ? "restart" : "thaw";
    await perform(action);
  }
  const chaosEnd = Date.now();

  // The end: a last kill (unless QuestDB is already down), then a restart, and how soon `ok` is back.
  if (state !== "killed") {
    await perform("kill", true);
    await sleep(FINAL_DOWN_MS);
  }
  await perform("restart", true);
  const restartDoneAt = Date.now();
  stats.recovery = {
    since: restartDoneAt,
    firstOk: Object.fromEntries(DATA_PROCEDURES.map((p) => [p, null])) as Record<(typeof DATA_PROCEDURES)[number], null>,
    healthOk: null,
  };
  const recovery = stats.recovery;
  while (Date.now() - restartDoneAt < RECOVERY_WAIT_MS && !abort.signal.aborted) {
    if (DATA_PROCEDURES.every((p) => recovery.firstOk[p] !== null) && recovery.healthOk !== null) break;
    await sleep(50);
  }
  await sleep(2_000); // a little steady state after recovery
  clientsStopped = true;
  await Promise.all(clients);
  if (abort.signal.aborted) return 130;
  for (const timer of timers) clearInterval(timer);
  const finishedAt = Date.now();

  const appAlive = app.isRunning();
  const rssEndKb = rssKb(appPid);
  if (rssEndKb !== null) rssPeakKb = Math.max(rssPeakKb, rssEndKb);
  const logScan = scanLog(app.log());
  // Breaker openings while QuestDB had been up for over 3 s: not caused by the chaos itself.
  const stateAt = (atMs: number) => [...states].reverse().find((st) => chaosStart + st.atS * 1000 <= atMs);
  const breakerOpenedWhileUp = logScan.breakerOpenedAt
    .filter((at) => {
      const st = stateAt(at);
      return st !== undefined && st.state === "up" && at - (chaosStart + st.atS * 1000) > 3_000;
    })
    .map((at) => Math.round((at - chaosStart) / 100) / 10);

  // Figures.
  const latency = (p: number) => (stats.durationsMs.length ? percentile(stats.durationsMs, p) : 0);
  const rssAt = (atS: number) => {
    let best: { t: number; kb: number } | undefined;
    for (const sample of rssSeries) if (!best || Math.abs(sample.t - atS) < Math.abs(best.t - atS)) best = sample;
    return best?.kb ?? null;
  };
  const chaosS = (chaosEnd - chaosStart) / 1000;
  const heapFloor = (from: number, to: number) => {
    const values = heapSeries.filter((sample) => sample.t >= from && sample.t < to).map((sample) => sample.kb);
    return values.length ? mb(Math.min(...values)) : null;
  };
  const heapFloors = [heapFloor(0, chaosS / 3), heapFloor(chaosS / 3, (2 * chaosS) / 3), heapFloor((2 * chaosS) / 3, chaosS + 0.001)];
  const lastThird = rssSeries.filter((sample) => sample.t >= (2 * chaosS) / 3 && sample.t <= chaosS).map((sample) => sample.kb);
  const recoveryMs = Object.fromEntries(
    DATA_PROCEDURES.map((p) => [p, recovery.firstOk[p] === null ? null : recovery.firstOk[p]! - restartDoneAt]),
  ) as Record<string, number | null>;
  const recoveryMax = Object.values(recoveryMs).some((v) => v === null)
    ? null
    : Math.max(...(Object.values(recoveryMs) as number[]));
  const http5xx = Object.entries(stats.byHttpStatus)
    .filter(([status]) => /^5\d\d$/.test(status))
    .reduce((sum, [, n]) => sum + n, 0);
  const non200 = Object.entries(stats.byHttpStatus)
    .filter(([status]) => status !== "200" && !/^5\d\d$/.test(status))
    .reduce((sum, [, n]) => sum + n, 0);
  const actionCounts = events.reduce<Record<string, number>>((acc, e) => ((acc[e.action] = (acc[e.action] ?? 0) + 1), acc), {});

  const checks = [
    { name: "no HTTP 5xx answer", ok: http5xx === 0, detail: `${http5xx} answers with HTTP 5xx` },
    {
      name: "every (valid) request answered HTTP 200, none hung",
      ok: non200 === 0,
      detail: `${non200} answers other than 200 and 5xx (timeouts after ${REQUEST_TIMEOUT_MS / 1000} s, network errors, 4xx): ${JSON.stringify(stats.byHttpStatus)}`,
    },
    { name: "no empty message", ok: stats.emptyMessages === 0, detail: `${stats.emptyMessages} answers with an empty message` },
    {
      name: "every answer follows the contract's union",
      ok: stats.violationCount === 0,
      detail: `${stats.violationCount} violations${stats.violations.length ? `: ${stats.violations.slice(0, 3).join(" | ")}` : ""}`,
    },
    {
      name: `connections to QuestDB never above QUESTDB_POOL_MAX (${poolMax})`,
      ok: maxEstablished <= poolMax && connectionSamples > 0,
      detail: `max ${maxEstablished} ESTABLISHED (at +${maxEstablishedAt.toFixed(1)} s) over ${connectionSamples} samples`,
    },
    {
      name: "no unhandled rejection or uncaught exception in the app log",
      ok: logScan.unhandled.length === 0,
      detail: `${logScan.unhandled.length} lines${logScan.unhandled.length ? `: ${logScan.unhandled[0]}` : ""}`,
    },
    { name: "the app process is alive at the end", ok: appAlive, detail: appAlive ? `pid ${appPid} alive` : `exited: ${JSON.stringify(app.exit())}` },
    {
      name: `ok answers again within ${RECOVERY_LIMIT_MS / 1000} s of the last restart`,
      ok: recoveryMax !== null && recoveryMax <= RECOVERY_LIMIT_MS,
      detail: recoveryMax === null ? `no ok answer within ${RECOVERY_WAIT_MS / 1000} s: ${JSON.stringify(recoveryMs)}` : `${recoveryMax} ms`,
    },
  ];
  const ok = checks.every((c) => c.ok);

  const report = {
    ok,
    startedAt: startedAtIso,
    finishedAt: new Date(finishedAt).toISOString(),
    options: { ...options, requestTimeoutMs: REQUEST_TIMEOUT_MS, intervalMs: INTERVAL_MS },
    build,
    app: { env: { ...APP_ENV, QUESTDB_POOL_MAX: String(poolMax) }, pid: appPid, aliveAtEnd: appAlive },
    seeded: { trades: seeded.trades, sessionEvents: seeded.sessionEvents },
    checks,
    chaos: { durationS: chaosS, actions: actionCounts, events },
    answers: {
      requests: stats.requests,
      byHttpStatus: stats.byHttpStatus,
      byUnionStatus: stats.byUnionStatus,
      byProcedure: stats.byProcedure,
      byHealthStatus: stats.byHealthStatus,
      byKind: stats.byKind,
      emptyMessages: stats.emptyMessages,
      notOkWhileQuestdbUp: stats.notOkWhileUp,
      notOkWhileQuestdbUpExamples: stats.notOkWhileUpExamples,
      contractViolations: stats.violationCount,
      violationExamples: stats.violations,
    },
    latencyMs: {
      max: stats.maxMs,
      maxKind: stats.maxMsKind,
      p50: latency(50),
      p95: latency(95),
      p99: latency(99),
    },
    connections: {
      poolMax,
      maxEstablished,
      maxEstablishedAtS: maxEstablishedAt,
      maxAnyState,
      samples: connectionSamples,
      sampleEveryMs: CONNECTION_SAMPLE_MS,
      maxPoolTotalReportedByApp: stats.maxPoolTotalReported,
    },
    memory: {
      rssStartMb: mb(rssStartKb),
      rssAtOneThirdMb: mb(rssAt(chaosS / 3)),
      rssAtTwoThirdsMb: mb(rssAt((2 * chaosS) / 3)),
      rssAtChaosEndMb: mb(rssAt(chaosS)),
      rssEndMb: mb(rssEndKb),
      rssPeakMb: mb(rssPeakKb),
      rssAtCacheFullMb: stats.cacheFullAtS === null ? null : mb(rssAt(stats.cacheFullAtS)),
      rssLastThirdMinMb: mb(lastThird.length ? Math.min(...lastThird) : null),
      rssLastThirdMaxMb: mb(lastThird.length ? Math.max(...lastThird) : null),
      heapUsedFloorByThirdMb: heapFloors,
      heapUsedPeakMb: mb(heapSeries.length ? Math.max(...heapSeries.map((h) => h.kb)) : null),
      series: rssSeries.map((s) => ({ t: Math.round(s.t), mb: mb(s.kb) })),
      heapUsedSeries: heapSeries.map((h) => ({ t: Math.round(h.t), mb: mb(h.kb) })),
    },
    cache: {
      maxEntries: CACHE_MAX_ENTRIES,
      distinctInputsAnsweredOk: stats.okKeys.size,
      fullAtS: stats.cacheFullAtS,
    },
    recovery: {
      lastRestartAtS: (restartDoneAt - chaosStart) / 1000,
      firstOkAfterMs: recoveryMs,
      healthOkAfterMs: recovery.healthOk === null ? null : recovery.healthOk - restartDoneAt,
      maxMs: recoveryMax,
      limitMs: RECOVERY_LIMIT_MS,
    },
    appLog: {
      lines: logScan.lines,
      events: logScan.events,
      unhandled: logScan.unhandled.length,
      unhandledExamples: logScan.unhandled.slice(0, 5),
      http5xxLines: logScan.http5xx,
      unexpectedErrors: logScan.unexpectedErrors,
      linesWithEmptyErrorOrMessage: logScan.emptyFields,
      breakerOpenings: logScan.breakerOpenedAt.length,
      breakerOpenedWhileQuestdbUpAtS: breakerOpenedWhileUp,
    },
    timeline: stats.seconds.map((s, i) => ({
      t: i,
      questdb: [...states].reverse().find((st) => st.atS <= i + 1)?.state ?? "up",
      ...s,
      connections: connPerSecond[i] ?? null,
    })),
  };
  fs.mkdirSync(path.dirname(options.out), { recursive: true });
  fs.writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  if (!ok) {
    fs.mkdirSync(path.dirname(FAILED_LOG_FILE), { recursive: true });
    fs.copyFileSync(app.logFile, FAILED_LOG_FILE);
  }

  // Summary.
  const m = report.memory;
  const fmt = (v: number | null) => (v === null ? "?" : `${v} MB`);
  const lines = [
    "",
    `Chaos soak: ${chaosS.toFixed(0)} s of chaos, seed ${options.seed}, ${options.clients} clients → ${path.relative(ROOT, options.out)}`,
    `QuestDB: ${Object.entries(actionCounts).map(([a, n]) => `${n} ${a}`).join(", ")}`,
    `Answers: ${stats.requests} requests; by HTTP status ${JSON.stringify(stats.byHttpStatus)}; HTTP 5xx ${http5xx}`,
    `Union: ok ${stats.byUnionStatus.ok}, degraded ${stats.byUnionStatus.degraded}, error ${stats.byUnionStatus.error}; ` +
      Object.entries(stats.byProcedure).map(([p, s]) => `${p} ${JSON.stringify(s)}`).join("; ") +
      `; health ${JSON.stringify(stats.byHealthStatus)}`,
    `Empty messages: ${stats.emptyMessages}; contract violations: ${stats.violationCount}`,
    `Answer time: longest ${stats.maxMs} ms (${stats.maxMsKind}), p50 ${report.latencyMs.p50} ms, p95 ${report.latencyMs.p95} ms, p99 ${report.latencyMs.p99} ms`,
    `Connections to QuestDB (kernel, ESTABLISHED, every ${CONNECTION_SAMPLE_MS} ms): max ${maxEstablished} of QUESTDB_POOL_MAX ${poolMax} ` +
      `(${connectionSamples} samples; any state max ${maxAnyState}; the pool's own max total ${stats.maxPoolTotalReported})`,
    `Memory (VmRSS): start ${fmt(m.rssStartMb)}, 1/3 ${fmt(m.rssAtOneThirdMb)}, 2/3 ${fmt(m.rssAtTwoThirdsMb)}, ` +
      `end of chaos ${fmt(m.rssAtChaosEndMb)}, end ${fmt(m.rssEndMb)}, peak ${fmt(m.rssPeakMb)}; ` +
      `last third of the chaos ${fmt(m.rssLastThirdMinMb)}–${fmt(m.rssLastThirdMaxMb)}`,
    `V8 heap used (from /api/metrics every ${HEAP_SAMPLE_MS / 1000} s): lowest in each third of the chaos ` +
      `${heapFloors.map(fmt).join(" / ")}, peak ${fmt(m.heapUsedPeakMb)}`,
    `Cache: ${stats.okKeys.size} distinct inputs answered ok (limit ${CACHE_MAX_ENTRIES})` +
      (stats.cacheFullAtS === null ? ", never full" : `, full at +${stats.cacheFullAtS.toFixed(0)} s (RSS then ${fmt(m.rssAtCacheFullMb)})`),
    `App log: ${logScan.lines} lines, unhandled ${logScan.unhandled.length}, http 5xx ${logScan.http5xx}, trpc.unexpected_error ${logScan.unexpectedErrors}`,
    `Breaker: opened ${logScan.breakerOpenedAt.length} times, ${breakerOpenedWhileUp.length} while QuestDB had been up for over 3 s` +
      `${breakerOpenedWhileUp.length ? ` (at +${breakerOpenedWhileUp.join(", +")} s)` : ""}; ` +
      `answers other than ok while QuestDB had been up for over 3 s: ${stats.notOkWhileUp}`,
    `Recovery after the last restart: ${DATA_PROCEDURES.map((p) => `${p} ${recoveryMs[p] ?? "never"} ms`).join(", ")}, ` +
      `/api/health ok ${report.recovery.healthOkAfterMs ?? "never"} ms; app alive: ${appAlive ? "yes" : "NO"}`,
    "",
    ...checks.map((c) => `${c.ok ? "PASS" : "FAIL"}  ${c.name} — ${c.detail}`),
    "",
    ok ? "chaos: all checks passed" : `chaos: FAILED (the app's log is kept in ${path.relative(ROOT, FAILED_LOG_FILE)})`,
  ];
  console.log(lines.join("\n"));
  return ok ? 0 : 1;
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
