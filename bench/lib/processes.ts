import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startApp as launchApp, type AppProcess } from "../../harness/app-process";
import { trackTempDir } from "../../harness/exit-cleanup";
import { nextBuild } from "../../harness/next-build";
import { startServerProcess, type ServerProcess } from "../../harness/server-process";

export type { ServerProcess };

/**
 * The app's production build and the servers the benchmark runs as child processes (the app with
 * `next start`, the plain-pg baseline server) through the shared launcher in harness/.
 */

export const ROOT = path.resolve(__dirname, "..", "..");

/** Top-level entries never copied into the build directory. */
const NOT_COPIED = new Set([
  "node_modules",
  ".next",
  ".questdb",
  "test-results",
  ".git",
  "playwright-report",
  "blob-report",
]);

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
    cpSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), {
      recursive: true,
      verbatimSymlinks: true,
    });
  }
  await nextBuild({ dir, logFile, env: { NODE_ENV: "production" } });
  return { dir, seconds: (performance.now() - started) / 1000, isolated: true };
}

/** Inherited settings that would change what is measured are dropped from a child's environment. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("QUESTDB_") || key === "LOG_LEVEL" || key === "PORT" || key === "NODE_OPTIONS") continue;
    env[key] = value;
  }
  return env as NodeJS.ProcessEnv;
}

/** `next start` of the build, pointed at QuestDB through `env`; ready once /api/health answers. */
export async function startApp(
  build: Build,
  port: number,
  env: Record<string, string>,
  logFile: string,
): Promise<AppProcess> {
  return launchApp({
    root: build.dir,
    port,
    env: {
      LOG_LEVEL: "warn",
      RATE_LIMIT_PER_MINUTE: "0",
      LIVE_MAX_STREAMS_PER_CLIENT: "100000",
      AUTH_MODE: "none",
      ...env,
    },
    logFile,
    baseEnv: cleanEnv(),
    readyTimeoutMs: 90_000,
  });
}

/** The plain-pg baseline route (bench/baseline-server.ts) in its own Node process. */
export function startBaselineServer(pgUrl: string, port: number, logFile: string): Promise<ServerProcess> {
  return startServerProcess({
    name: "the baseline server",
    command: process.execPath,
    args: ["--import", "tsx", path.join(ROOT, "bench", "baseline-server.ts")],
    cwd: ROOT,
    env: { ...cleanEnv(), NODE_ENV: "production", BASELINE_PG_URL: pgUrl, BASELINE_PORT: String(port) },
    logFile,
    port,
    readyPath: "/health",
    readyTimeoutMs: 30_000,
  });
}
