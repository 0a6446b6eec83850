import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import path from "node:path";
import { killWithThisProcess } from "./child-cleanup";
import { logSize, readLog } from "./log-file";

/**
 * `next build` as a child process: the one way the benchmark, the chaos soak and the e2e suite
 * build the production app. The build is killed with this process however it ends, and at once
 * when `signal` aborts (a Ctrl-C during a build should not wait for it).
 */

export interface NextBuildOptions {
  /** The project to build (its own node_modules/.bin/next is run there). */
  dir: string;
  /** Output appended to this file; on the terminal when absent. */
  logFile?: string;
  /** Laid over this process's environment (telemetry is always off). */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/** The end of a build log, for the error message. */
function tail(file: string, bytes = 3_000): string {
  return readLog(file, logSize(file) - bytes) || "(no log)";
}

function outputTo(logFile: string | undefined): { stdio: "inherit" | ["ignore", number, number]; close(): void } {
  if (!logFile) return { stdio: "inherit", close: () => undefined };
  const out = openSync(logFile, "a");
  return { stdio: ["ignore", out, out], close: () => closeSync(out) };
}

/** Resolves once `next build` has succeeded; throws with its exit code (and the log's end) otherwise. */
export async function nextBuild(opts: NextBuildOptions): Promise<void> {
  const output = outputTo(opts.logFile);
  const child = spawn(path.join(opts.dir, "node_modules", ".bin", "next"), ["build"], {
    cwd: opts.dir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...opts.env },
    stdio: output.stdio,
  });
  output.close();
  killWithThisProcess(child);
  const abort = () => child.kill("SIGKILL");
  opts.signal?.addEventListener("abort", abort, { once: true });
  if (opts.signal?.aborted) abort();
  const code = await new Promise<number | null>((resolve) => {
    child.once("exit", (exitCode) => resolve(exitCode));
    child.once("error", () => resolve(-1));
  }).finally(() => opts.signal?.removeEventListener("abort", abort));
  if (code === 0) return;
  const log = opts.logFile ? `:\n${tail(opts.logFile)}` : "";
  throw new Error(`next build failed (exit ${String(code)})${log}`);
}
