import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The production build of the app (`next start`) as a child process, its log captured to a file.
 * Killed when the test process exits, however it exits.
 */

const live = new Set<ChildProcess>();
function killAll() {
  for (const child of live) child.kill("SIGKILL");
}
process.once("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

export interface AppProcess {
  url: string;
  logFile: string;
  pid: number;
  isRunning(): boolean;
  log(): string;
  /** Lines of the app's log that report an unhandled error or a crash. */
  unhandledErrors(): string[];
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, "..");

export async function startApp(opts: { port: number; env: Record<string, string>; logFile: string }): Promise<AppProcess> {
  const out = openSync(opts.logFile, "a");
  const child = spawn(path.join(ROOT, "node_modules/.bin/next"), ["start", "-p", String(opts.port)], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: "production", LOG_LEVEL: "info", PORT: String(opts.port), ...opts.env },
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  live.add(child);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      live.delete(child);
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${opts.port}`;
  const log = () => readFileSync(opts.logFile, "utf8");

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`the app exited during start-up:\n${log().slice(-3000)}`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the app did not answer within 60 s:\n${log().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    logFile: opts.logFile,
    pid: child.pid!,
    isRunning: () => !exited,
    log,
    unhandledErrors: () =>
      log()
        .split("\n")
        .filter((line) => /unhandled_rejection|uncaughtException|Unhandled|"level":"fatal"|⨯ /.test(line)),
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
