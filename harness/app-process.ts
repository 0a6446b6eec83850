import path from "node:path";
import { startServerProcess, type ServerProcess } from "./server-process";

/**
 * The production build (`next start`) as a child process, its output captured to a file: the one
 * app launcher the e2e fixture, the chaos soak and the benchmark share.
 */

/** A log line that reports an unhandled error or a crash of the app. */
export const UNHANDLED_ERROR_LINE = /unhandled_rejection|uncaughtException|Unhandled|"level":"fatal"|⨯ /;

const PROJECT_ROOT = path.resolve(__dirname, "..");

export interface AppProcess extends ServerProcess {
  /** Lines of the log that report an unhandled error or a crash. */
  unhandledErrors(): string[];
}

export async function startApp(opts: {
  /** The project whose `.next` build is served; this repository by default. */
  root?: string;
  port: number;
  env: Record<string, string>;
  logFile: string;
  /** The environment the app's own settings are laid over; this process's by default. */
  baseEnv?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}): Promise<AppProcess> {
  const root = opts.root ?? PROJECT_ROOT;
  const server = await startServerProcess({
    name: "the app (next start)",
    command: path.join(root, "node_modules/.bin/next"),
    args: ["start", "-p", String(opts.port)],
    cwd: root,
    env: {
      ...(opts.baseEnv ?? process.env),
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      LOG_LEVEL: "info",
      ...opts.env,
      PORT: String(opts.port),
    },
    logFile: opts.logFile,
    port: opts.port,
    readyPath: "/api/health",
    readyTimeoutMs: opts.readyTimeoutMs,
  });
  return {
    ...server,
    unhandledErrors: () =>
      server
        .log()
        .split("\n")
        .filter((line) => UNHANDLED_ERROR_LINE.test(line)),
  };
}
