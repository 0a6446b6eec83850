import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { get } from "./http";
import { trackChild, trackTempDir } from "./cleanup";
import { sleep } from "./stats";

/**
 * The app's production build and the servers the benchmark runs as child processes (the app with
 * `next start`, the plain-pg baseline server), each with its output in a log file.
 */

export const ROOT = path.resolve(__dirname, "..", "..");

/** Top-level entries never copied into the build directory. */
const NOT_COPIED = new Set(["node_modules", ".next", ".questdb", "test-results", ".git", "playwright-report", "blob-report"]);

function tail(file: string, chars = 3_000): string {
  try {
    return readFileSync(file, "utf8").slice(-chars);
  } catch {
    return "(no log)";
  }
}

export interface Build {
  /** The directory `next start` runs in. */
  dir: string;
  /** Seconds the build took (0 when skipped). */
  seconds: number;
  isolated: boolean;
}

/**
 * `next build` in a private copy of the working tree (node_modules hard-linked, so it costs no
 * copy): the repository's own `.next`, which a concurrent Playwright run or `next start` may be
 * using, is never touched. With BENCH_SKIP_BUILD=1 the existing `.next` of the repository is used.
 */
export async function buildApp(logFile: string): Promise<Build> {
  if (process.env.BENCH_SKIP_BUILD === "1") {
    if (!existsSync(path.join(ROOT, ".next", "BUILD_ID"))) {
      throw new Error("BENCH_SKIP_BUILD=1 but there is no production build in .next (run `npm run build` first)");
    }
    return { dir: ROOT, seconds: 0, isolated: false };
  }
  const started = performance.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-app-"));
  trackTempDir(dir);
  cpSync(ROOT, dir, {
    recursive: true,
    filter: (source) => {
      const relative = path.relative(ROOT, source);
      if (relative === "") return true;
      const [top] = relative.split(path.sep);
      if (NOT_COPIED.has(top!)) return false;
      return !relative.startsWith(path.join("bench", "results")) && !relative.startsWith(path.join("bench", "."));
    },
  });
  // Hard links: instant, and Turbopack accepts them (it refuses a node_modules symlink pointing
  // outside the project root). Fall back to a real copy across file systems.
  const linked = spawnSync("cp", ["-al", path.join(ROOT, "node_modules"), path.join(dir, "node_modules")]);
  if (linked.status !== 0) {
    cpSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), { recursive: true, verbatimSymlinks: true });
  }
  const out = openSync(logFile, "a");
  const child = spawn(path.join(dir, "node_modules", ".bin", "next"), ["build"], {
    cwd: dir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  trackChild(child);
  const code = await new Promise<number | null>((resolve) => {
    child.once("exit", (exitCode) => resolve(exitCode));
    child.once("error", () => resolve(-1));
  });
  if (code !== 0) throw new Error(`next build failed (exit ${String(code)}):\n${tail(logFile)}`);
  return { dir, seconds: (performance.now() - started) / 1000, isolated: true };
}

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  logFile: string;
  isRunning(): boolean;
  log(): string;
  stop(): Promise<void>;
}

interface StartOptions {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  port: number;
  readyPath: string;
  readyTimeoutMs?: number;
}

/** Inherited settings that would change what is measured are dropped from a child's environment. */
function cleanEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("QUESTDB_") || key === "LOG_LEVEL" || key === "PORT" || key === "NODE_OPTIONS") continue;
    env[key] = value;
  }
  return env;
}

async function startServer(opts: StartOptions): Promise<ServerProcess> {
  const out = openSync(opts.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: { ...cleanEnv(), ...opts.env } as NodeJS.ProcessEnv,
      stdio: ["ignore", out, out],
    });
  } finally {
    closeSync(out);
  }
  trackChild(child);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      resolve();
    });
  });
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 90_000);
  for (;;) {
    if (exited) throw new Error(`${opts.name} exited during start-up:\n${tail(opts.logFile)}`);
    const res = await get(`${url}${opts.readyPath}`, 2_000);
    if (res.status === 200) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${opts.name} did not answer ${opts.readyPath} in time:\n${tail(opts.logFile)}`);
    }
    await sleep(100);
  }
  return {
    name: opts.name,
    url,
    pid: child.pid ?? -1,
    logFile: opts.logFile,
    isRunning: () => !exited,
    log: () => tail(opts.logFile, 1_000_000),
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** `next start` of the build, pointed at QuestDB through `env`; ready once /api/health answers. */
export function startApp(build: Build, port: number, env: Record<string, string>, logFile: string): Promise<ServerProcess> {
  return startServer({
    name: "the app (next start)",
    command: path.join(build.dir, "node_modules", ".bin", "next"),
    args: ["start", "-p", String(port)],
    cwd: build.dir,
    env: { NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", LOG_LEVEL: "warn", PORT: String(port), ...env },
    logFile,
    port,
    readyPath: "/api/health",
  });
}

/** The plain-pg baseline route (bench/baseline-server.ts) in its own Node process. */
export function startBaselineServer(pgUrl: string, port: number, logFile: string): Promise<ServerProcess> {
  return startServer({
    name: "the baseline server",
    command: process.execPath,
    args: ["--import", "tsx", path.join(ROOT, "bench", "baseline-server.ts")],
    cwd: ROOT,
    env: { NODE_ENV: "production", BASELINE_PG_URL: pgUrl, BASELINE_PORT: String(port) },
    logFile,
    port,
    readyPath: "/health",
    readyTimeoutMs: 30_000,
  });
}
