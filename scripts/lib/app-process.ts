import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The production build (`next start`) as a child process, its output captured to a file: the one
 * launcher the e2e fixture and the chaos soak share.
 */

/** A log line that reports an unhandled error or a crash of the app. */
export const UNHANDLED_ERROR_LINE = /unhandled_rejection|uncaughtException|Unhandled|"level":"fatal"|⨯ /;

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

export interface AppProcess {
  url: string;
  pid: number;
  logFile: string;
  isRunning(): boolean;
  /** How it exited, once it has. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | null;
  log(): string;
  /** Lines of the log that report an unhandled error or a crash. */
  unhandledErrors(): string[];
  /** SIGTERM, SIGKILL after 5 s; resolves once it is gone. */
  stop(): Promise<void>;
  /** SIGKILL without waiting (for the process 'exit' handler). */
  killNow(): void;
}

export async function startApp(opts: {
  /** The project whose `.next` build is served; this repository by default. */
  root?: string;
  port: number;
  env: Record<string, string>;
  logFile: string;
  readyTimeoutMs?: number;
}): Promise<AppProcess> {
  const root = opts.root ?? PROJECT_ROOT;
  const out = openSync(opts.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(path.join(root, "node_modules/.bin/next"), ["start", "-p", String(opts.port)], {
      cwd: root,
      env: {
        ...process.env,
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        LOG_LEVEL: "info",
        ...opts.env,
        PORT: String(opts.port),
      },
      stdio: ["ignore", out, out],
    });
  } finally {
    closeSync(out);
  }
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exitInfo = { code, signal };
      resolve();
    });
    child.once("error", () => resolve());
  });
  const url = `http://127.0.0.1:${opts.port}`;
  const log = () => {
    try {
      return readFileSync(opts.logFile, "utf8");
    } catch {
      return "";
    }
  };
  const app: AppProcess = {
    url,
    pid: child.pid ?? -1,
    logFile: opts.logFile,
    isRunning: () => exitInfo === null && child.exitCode === null && child.signalCode === null,
    exit: () => exitInfo,
    log,
    unhandledErrors: () =>
      log()
        .split("\n")
        .filter((line) => UNHANDLED_ERROR_LINE.test(line)),
    async stop() {
      if (!app.isRunning()) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
    killNow() {
      if (app.isRunning()) child.kill("SIGKILL");
    },
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (!app.isRunning()) throw new Error(`the app exited during start-up:\n${log().slice(-3000)}`);
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      app.killNow();
      throw new Error(`the app did not answer /api/health within the start-up limit:\n${log().slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return app;
}
