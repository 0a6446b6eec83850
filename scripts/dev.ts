import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { InvalidEnvError, parseEnv } from "../server/env";
import { createLogger, logEvent } from "../server/observability/logger";
import { describeError } from "../demo/describe-error";
import { startLiveFeed, type LiveFeed } from "../demo/live-feed/live-feed";
import { seedDemoData } from "../demo/seed";
import { QuestdbUnavailableError } from "../harness/questdb-process";
import { LOCAL_QUESTDB_LOG_FILE, startLocalQuestdb } from "./questdb";

/**
 * `npm run dev`.
 *
 * - QUESTDB_URL unset: start the local QuestDB (`npm run questdb -- start`, reused if it runs),
 *   seed it when needed, run the live feed in this process, then `next dev` pointed at it.
 *   QuestDB is left running on exit (`npm run questdb -- stop` stops it).
 * - QUESTDB_URL set: just `next dev` with the environment as is (no QuestDB, seed or feed).
 */

const projectRoot = typeof __dirname !== "undefined" ? path.resolve(__dirname, "..") : process.cwd();
const NEXT_BIN = path.join(projectRoot, "node_modules", ".bin", "next");
/** How long `next dev` gets to exit after a forwarded signal before it is killed. */
const CHILD_EXIT_GRACE_MS = 10_000;

function runNextDev(port: number, env: NodeJS.ProcessEnv, onExit: (code: number) => Promise<void>): ChildProcess {
  const child = spawn(NEXT_BIN, ["dev", "--port", String(port)], { cwd: projectRoot, env, stdio: "inherit" });
  let forwarded = false;
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    if (!forwarded) {
      forwarded = true;
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }, CHILD_EXIT_GRACE_MS).unref();
    }
  };
  process.on("SIGINT", () => forward("SIGINT"));
  process.on("SIGTERM", () => forward("SIGTERM"));
  child.on("error", (error) => {
    console.error(`Could not start next dev (${NEXT_BIN}): ${error.message}`);
    void onExit(1);
  });
  child.on("exit", (code, signal) => {
    void onExit(code ?? (signal === "SIGINT" || signal === "SIGTERM" ? 0 : 1));
  });
  return child;
}

async function main(): Promise<void> {
  const log = createLogger("dev");
  const env = parseEnv();
  const port = env.PORT;
  // Two commands to a first look: without a chosen AUTH_MODE, dev serves without sign-in, and says so.
  const devEnv: NodeJS.ProcessEnv = { ...process.env, AUTH_MODE: env.AUTH_MODE ?? "none" };
  if (env.AUTH_MODE === undefined) {
    console.log(
      "AUTH_MODE is not set: npm run dev serves without sign-in (AUTH_MODE=none); set AUTH_MODE=oidc to try sign-in",
    );
  }

  if (process.env.QUESTDB_URL?.trim()) {
    console.log(`QUESTDB_URL is set: running next dev on port ${port} against it (no local QuestDB, seed or feed)`);
    runNextDev(port, devEnv, async (code) => process.exit(code));
    return;
  }

  const questdb = await startLocalQuestdb();
  const where = `pg ${questdb.pgPort}, http ${questdb.httpPort}`;
  if (questdb.status === "started") {
    console.log(
      `QuestDB started (pid ${questdb.pid}, ${where}) in ${(questdb.elapsedMs / 1000).toFixed(1)} s; log: ${LOCAL_QUESTDB_LOG_FILE}`,
    );
  } else if (questdb.status === "already-running") {
    console.log(`QuestDB already running (pid ${questdb.pid}, ${where}); reusing it`);
  } else {
    console.log(`A QuestDB not started by npm run questdb answers on ${where}; using it`);
  }

  try {
    const startedAt = Date.now();
    const seeded = await seedDemoData({ pgUrl: questdb.pgUrl, httpUrl: questdb.httpUrl, log });
    console.log(
      `Seed: trades ${seeded.trades} (+${seeded.createdTrades}), session_events ${seeded.sessionEvents} ` +
        `(+${seeded.createdSessionEvents}) in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
    );
  } catch (error) {
    // The dashboard copes with a QuestDB that misbehaves; the feed keeps trying too.
    logEvent(log, "warn", "dev.seed_failed", { error: describeError(error) });
  }

  const feed: LiveFeed = startLiveFeed({ httpUrl: questdb.httpUrl, log: createLogger("feed") });
  const stopHint =
    questdb.status === "foreign"
      ? ""
      : `QuestDB is still running (pid ${questdb.pid}); \`npm run questdb -- stop\` stops it`;

  let exiting = false;
  runNextDev(
    port,
    { ...devEnv, QUESTDB_URL: questdb.pgUrl, QUESTDB_HTTP_URL: questdb.httpUrl, PORT: String(port) },
    async (code) => {
      if (exiting) return;
      exiting = true;
      await feed.stop();
      if (stopHint) console.log(stopHint);
      process.exit(code);
    },
  );
}

main().catch((error: unknown) => {
  if (error instanceof QuestdbUnavailableError || error instanceof InvalidEnvError) {
    console.error(error.message);
  } else {
    console.error(`npm run dev failed: ${describeError(error)}`);
  }
  process.exit(1);
});
