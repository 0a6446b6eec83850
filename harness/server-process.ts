import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { killWithThisProcess } from "./child-cleanup";
import { stopChild } from "./child-exit";

/**
 * An HTTP server run as a child process, its output captured to a file, ready once a path answers
 * 200, killed with this process however it ends. The one launcher behind the app (`next start`) in
 * the e2e fixture, the chaos soak and the benchmark, and behind the benchmark's plain-pg baseline.
 */

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  logFile: string;
  isRunning(): boolean;
  /** How it exited, once it has. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | null;
  log(): string;
  /** SIGTERM, SIGKILL after 5 s; resolves once it is gone. */
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /** Named in errors: "the app (next start)". */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  /** The child's whole environment. */
  env: NodeJS.ProcessEnv;
  logFile: string;
  port: number;
  /** Polled until it answers 200. */
  readyPath: string;
  readyTimeoutMs?: number;
}

export async function startServerProcess(opts: ServerProcessOptions): Promise<ServerProcess> {
  const out = openSync(opts.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", out, out] });
  } finally {
    closeSync(out);
  }
  killWithThisProcess(child);
  let spawnError: Error | undefined;
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exitInfo = { code, signal };
      resolve();
    });
    // A command that cannot be spawned (ENOENT, EACCES): named in the start-up error below.
    child.once("error", (error) => {
      exitInfo ??= { code: null, signal: null };
      spawnError = error;
      resolve();
    });
  });
  const url = `http://127.0.0.1:${opts.port}`;
  const log = () => {
    try {
      return readFileSync(opts.logFile, "utf8");
    } catch {
      return "";
    }
  };
  const server: ServerProcess = {
    name: opts.name,
    url,
    pid: child.pid ?? -1,
    logFile: opts.logFile,
    isRunning: () => exitInfo === null && child.exitCode === null && child.signalCode === null,
    exit: () => exitInfo,
    log,
    stop: () => stopChild(child, exited, { isRunning: () => server.isRunning() }),
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (!server.isRunning()) {
      const why = spawnError
        ? `could not be started (${spawnError.message})`
        : `exited during start-up (${JSON.stringify(exitInfo)})`;
      throw new Error(`${opts.name} ${why}:\n${log().slice(-3000)}`);
    }
    try {
      const res = await fetch(`${url}${opts.readyPath}`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(
        `${opts.name} did not answer ${opts.readyPath} within ${(opts.readyTimeoutMs ?? 60_000) / 1000} s:\n` +
          log().slice(-3000),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return server;
}
