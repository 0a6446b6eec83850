import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { InvalidEnvError, parseEnv } from "../server/env";
import {
  QUESTDB_VERSION,
  STOP_GRACE_MS,
  ensureQuestdbJar,
  QuestdbProcess,
  answersQuery,
  isPortFree,
} from "../harness/questdb-process";
import { isPidAlive, isPidStopped, isQuestdbPid } from "../harness/proc";
import { isMain } from "../harness/is-main";

/**
 * `npm run questdb -- start|stop|status`: a local QuestDB for development, outside Docker.
 *
 * Ports come from QUESTDB_URL (PG wire) and QUESTDB_HTTP_URL (HTTP, also ILP over HTTP); the
 * min-HTTP and ILP/TCP servers are disabled so that only those two ports are taken. Data lives
 * in `.questdb/` (tables in `.questdb/db`), with the pid in `.questdb/questdb.pid` and QuestDB's
 * log in `.questdb/questdb.log`. `start` leaves QuestDB running after the command returns.
 */

const projectRoot = typeof __dirname !== "undefined" ? path.resolve(__dirname, "..") : process.cwd();

export const LOCAL_QUESTDB_ROOT = path.join(projectRoot, ".questdb");
export const LOCAL_QUESTDB_PID_FILE = path.join(LOCAL_QUESTDB_ROOT, "questdb.pid");
export const LOCAL_QUESTDB_LOG_FILE = path.join(LOCAL_QUESTDB_ROOT, "questdb.log");

/** The log is rotated (one previous copy kept) when it grows beyond this at start. */
const MAX_LOG_BYTES = 20 * 1024 * 1024;

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "0.0.0.0", "::1", "[::1]"]);

export interface LocalQuestdbTarget {
  pgPort: number;
  httpPort: number;
  /** The URLs clients should use (the configured ones). */
  pgUrl: string;
  httpUrl: string;
}

/** Where the local QuestDB listens, from QUESTDB_URL / QUESTDB_HTTP_URL (which must be local). */
export function localQuestdbTarget(source: Record<string, string | undefined> = process.env): LocalQuestdbTarget {
  const env = parseEnv(source);
  const pg = new URL(env.QUESTDB_URL);
  const http = new URL(env.QUESTDB_HTTP_URL);
  for (const [name, url] of [
    ["QUESTDB_URL", pg],
    ["QUESTDB_HTTP_URL", http],
  ] as const) {
    if (!LOCAL_HOSTS.has(url.hostname)) {
      throw new InvalidEnvError(
        `${name} points at host ${url.hostname}; npm run questdb only manages a QuestDB on this machine (127.0.0.1/localhost)`,
      );
    }
  }
  const pgPort = pg.port ? Number(pg.port) : 5432;
  const httpPort = http.port ? Number(http.port) : http.protocol === "https:" ? 443 : 80;
  return {
    pgPort,
    httpPort,
    pgUrl: env.QUESTDB_URL,
    httpUrl: env.QUESTDB_HTTP_URL.replace(/\/+$/, ""),
  };
}

function readPidFile(): number | null {
  try {
    const pid = Number(fs.readFileSync(LOCAL_QUESTDB_PID_FILE, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function removePidFile(): void {
  fs.rmSync(LOCAL_QUESTDB_PID_FILE, { force: true });
}

/** A pid from the pid file that is still a live QuestDB (not gone, not a zombie, not reused). */
function liveQuestdbPid(pid: number): boolean {
  return isPidAlive(pid) && isQuestdbPid(pid);
}

export type LocalQuestdbStatus =
  | { state: "running"; pid: number; target: LocalQuestdbTarget }
  /** The process is alive but did not answer `SELECT 1` (still starting, frozen or hung). */
  | { state: "not-answering"; pid: number; target: LocalQuestdbTarget }
  | {
      state: "not-running";
      target: LocalQuestdbTarget;
      /** The pid file named a process that is gone; the file was removed. */
      stalePid?: number;
      /** Something not started by this script answers queries on the PG port. */
      foreignAnswering?: boolean;
    };

/** The state of the local QuestDB (removes a stale pid file). */
export async function localQuestdbStatus(
  source: Record<string, string | undefined> = process.env,
): Promise<LocalQuestdbStatus> {
  const target = localQuestdbTarget(source);
  const pid = readPidFile();
  if (pid !== null && liveQuestdbPid(pid)) {
    const answering = await answersQuery(target.pgUrl, 2_000);
    return { state: answering ? "running" : "not-answering", pid, target };
  }
  if (pid !== null) removePidFile();
  const foreignAnswering = await answersQuery(target.pgUrl, 1_000);
  return {
    state: "not-running",
    target,
    ...(pid !== null ? { stalePid: pid } : {}),
    ...(foreignAnswering ? { foreignAnswering } : {}),
  };
}

export interface LocalQuestdbStartResult {
  /** "started": spawned now; "already-running": ours was running; "foreign": something else answers on the port. */
  status: "started" | "already-running" | "foreign";
  pid: number | null;
  pgUrl: string;
  httpUrl: string;
  pgPort: number;
  httpPort: number;
  elapsedMs: number;
}

/**
 * Starts the local QuestDB detached (it outlives this process) and resolves once it answers a
 * query; reuses the one already running. Throws QuestdbUnavailableError (one line) when java/mvn
 * are missing, InvalidEnvError for bad URLs, Error when the ports are taken or start-up fails.
 */
export async function startLocalQuestdb(
  options: { env?: Record<string, string | undefined>; readyTimeoutMs?: number } = {},
): Promise<LocalQuestdbStartResult> {
  const startedAt = Date.now();
  const target = localQuestdbTarget(options.env ?? process.env);
  const result = (status: LocalQuestdbStartResult["status"], pid: number | null): LocalQuestdbStartResult => ({
    status,
    pid,
    pgUrl: target.pgUrl,
    httpUrl: target.httpUrl,
    pgPort: target.pgPort,
    httpPort: target.httpPort,
    elapsedMs: Date.now() - startedAt,
  });
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;

  const existing = readPidFile();
  if (existing !== null && liveQuestdbPid(existing)) {
    // Ours is running (or still starting in another terminal): wait until it answers.
    const deadline = Date.now() + readyTimeoutMs;
    while (!(await answersQuery(target.pgUrl, 1_000))) {
      if (!liveQuestdbPid(existing)) break;
      if (isPidStopped(existing)) {
        throw new Error(
          `QuestDB already running (pid ${existing}) but frozen (SIGSTOP), so not answering queries; ` +
            `\`kill -CONT ${existing}\` resumes it, \`npm run questdb -- stop\` stops it`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `QuestDB already running (pid ${existing}) but not answering queries on port ${target.pgPort} ` +
            `(frozen or hung?); see ${LOCAL_QUESTDB_LOG_FILE} or run \`npm run questdb -- stop\``,
        );
      }
      await sleep(200);
    }
    if (liveQuestdbPid(existing)) return result("already-running", existing);
  }
  if (existing !== null) removePidFile();

  if (await answersQuery(target.pgUrl, 1_000)) return result("foreign", null);
  const busy: number[] = [];
  for (const port of [target.pgPort, target.httpPort]) if (!(await isPortFree(port))) busy.push(port);
  if (busy.length > 0) {
    throw new Error(
      `Cannot start QuestDB: port(s) ${busy.join(", ")} already in use by another process ` +
        `(set QUESTDB_URL / QUESTDB_HTTP_URL to other ports)`,
    );
  }

  fs.mkdirSync(LOCAL_QUESTDB_ROOT, { recursive: true });
  try {
    if (fs.statSync(LOCAL_QUESTDB_LOG_FILE).size > MAX_LOG_BYTES) {
      fs.renameSync(LOCAL_QUESTDB_LOG_FILE, `${LOCAL_QUESTDB_LOG_FILE}.1`);
    }
  } catch {
    // no log yet
  }

  try {
    const questdb = await QuestdbProcess.start({
      dataDir: LOCAL_QUESTDB_ROOT,
      pgPort: target.pgPort,
      httpPort: target.httpPort,
      logFile: LOCAL_QUESTDB_LOG_FILE,
      detached: true,
      readyTimeoutMs,
      onSpawn: (pid) => fs.writeFileSync(LOCAL_QUESTDB_PID_FILE, `${pid}\n`),
    });
    return result("started", questdb.pid);
  } catch (error) {
    const pid = readPidFile();
    if (pid !== null && !liveQuestdbPid(pid)) removePidFile();
    throw error;
  }
}

export interface LocalQuestdbStopResult {
  status: "stopped" | "not-running";
  pid: number | null;
  /** true when SIGTERM was not enough within 10 s. */
  killed: boolean;
  /** The pid file named a process that was already gone. */
  stalePid?: number;
  elapsedMs: number;
}

/** Stops the local QuestDB: SIGCONT (in case frozen), SIGTERM, SIGKILL after 10 s; removes the pid file. */
export async function stopLocalQuestdb(): Promise<LocalQuestdbStopResult> {
  const startedAt = Date.now();
  const pid = readPidFile();
  if (pid === null) return { status: "not-running", pid: null, killed: false, elapsedMs: 0 };
  if (!liveQuestdbPid(pid)) {
    removePidFile();
    return { status: "not-running", pid: null, killed: false, stalePid: pid, elapsedMs: Date.now() - startedAt };
  }
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // gone already
    }
  };
  signal("SIGCONT");
  signal("SIGTERM");
  let killed = false;
  const graceDeadline = Date.now() + STOP_GRACE_MS;
  while (liveQuestdbPid(pid)) {
    if (!killed && Date.now() > graceDeadline) {
      signal("SIGKILL");
      killed = true;
    }
    await sleep(50);
  }
  removePidFile();
  return { status: "stopped", pid, killed, elapsedMs: Date.now() - startedAt };
}

// ---------------------------------------------------------------------------------------------
// CLI

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function cli(command: string | undefined): Promise<number> {
  switch (command) {
    case "start": {
      const started = await startLocalQuestdb();
      const where = `pg ${started.pgPort}, http ${started.httpPort}`;
      if (started.status === "already-running") {
        console.log(`QuestDB already running (pid ${started.pid}, ${where}); nothing changed`);
      } else if (started.status === "foreign") {
        console.log(
          `QuestDB already answering queries on port ${started.pgPort} (not started by npm run questdb, no pid file); nothing changed`,
        );
      } else {
        console.log(
          `QuestDB ${QUESTDB_VERSION} started (pid ${started.pid}, ${where}, data ${path.relative(process.cwd(), LOCAL_QUESTDB_ROOT) || "."}/db) in ${seconds(started.elapsedMs)}; stop it with \`npm run questdb -- stop\``,
        );
      }
      return 0;
    }
    case "stop": {
      const stopped = await stopLocalQuestdb();
      if (stopped.status === "stopped") {
        console.log(
          `QuestDB stopped (pid ${stopped.pid}${stopped.killed ? ", SIGKILL after 10 s" : ""}) in ${seconds(stopped.elapsedMs)}`,
        );
      } else if (stopped.stalePid !== undefined) {
        console.log(`QuestDB is not running (removed stale pid file for pid ${stopped.stalePid})`);
      } else {
        console.log("QuestDB is not running (no pid file); nothing to stop");
      }
      return 0;
    }
    case "status": {
      const status = await localQuestdbStatus();
      const { pgPort, httpPort } = status.target;
      if (status.state === "running") {
        console.log(`running (pid ${status.pid}, answering queries on pg ${pgPort}, http ${httpPort})`);
        return 0;
      }
      if (status.state === "not-answering") {
        const why = isPidStopped(status.pid) ? "frozen by SIGSTOP" : "starting or hung?";
        console.log(
          `running (pid ${status.pid}) but NOT answering queries on pg ${pgPort} (${why}); log: ${LOCAL_QUESTDB_LOG_FILE}`,
        );
        return 4;
      }
      const notes: string[] = [];
      if (status.stalePid !== undefined) notes.push(`removed stale pid file for pid ${status.stalePid}`);
      if (status.foreignAnswering) notes.push(`but something not started by npm run questdb answers on pg ${pgPort}`);
      console.log(`not running${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`);
      return 3;
    }
    case "fetch": {
      // Only obtains the jar (CI does this before the tests, so no test pays for the download).
      console.log(`QuestDB ${QUESTDB_VERSION} jar: ${await ensureQuestdbJar()}`);
      return 0;
    }
    default:
      console.error("usage: npm run questdb -- start|stop|status|fetch");
      return 2;
  }
}

if (isMain(typeof module === "undefined" ? undefined : module)) {
  cli(process.argv[2])
    .then((code) => process.exit(code))
    .catch((error: unknown) => {
      // One line for the expected failures (missing java/mvn, bad URL, busy port); start-up
      // failures carry the tail of QuestDB's log after their first line.
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    });
}
