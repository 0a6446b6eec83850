import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { findBinary } from "./binaries";
import { killWithThisProcess } from "./child-cleanup";
import { logSize, readLog } from "./log-file";
import { RestartableChild } from "./restartable-child";

/**
 * The one place that knows how to obtain and run QuestDB (the Maven artifact org.questdb:questdb,
 * started with `java -p <jar> -m io.questdb/io.questdb.ServerMain -d <root>`).
 *
 * Used by `npm run questdb` (scripts/questdb.ts), `npm run dev`, the integration tests and the
 * e2e fixture (startTestQuestdb).
 */

/**
 * The one QuestDB version pin. 9.4.3 is what the contract names, but it is not served by Maven
 * Central here (`dependency:get` fails); 9.3.4 is, runs on Java 17 and starts in about 2 s.
 */
export const QUESTDB_VERSION = "9.3.4";

const MAVEN_GROUP_PATH = path.join("org", "questdb", "questdb");
const ALTERNATIVES = "or run `docker compose up -d questdb`, or point QUESTDB_URL at an existing QuestDB";

/** How long a stop waits after SIGTERM before it sends SIGKILL. */
export const STOP_GRACE_MS = 10_000;

/** The local Maven repository: $MAVEN_REPO_LOCAL if set, else ~/.m2/repository. */
export function mavenRepoLocal(): string {
  const configured = process.env.MAVEN_REPO_LOCAL?.trim();
  return configured ? path.resolve(configured) : path.join(os.homedir(), ".m2", "repository");
}

/** Where the QuestDB jar lives (or will live) in the local Maven repository. */
export function questdbJarPath(version: string = QUESTDB_VERSION): string {
  return path.join(mavenRepoLocal(), MAVEN_GROUP_PATH, version, `questdb-${version}.jar`);
}

/** Thrown (with one line) when QuestDB cannot be obtained or run on this machine. */
export class QuestdbUnavailableError extends Error {
  override name = "QuestdbUnavailableError";
}

/**
 * Returns the path of the QuestDB jar in the local Maven repository, downloading it with
 * `mvn dependency:get` if it is not there yet. Throws QuestdbUnavailableError with one line when
 * java (always needed) or mvn (needed only to download the jar) is not on PATH.
 */
export async function ensureQuestdbJar(): Promise<string> {
  const jar = questdbJarPath();
  const unavailable = QuestdbUnavailableError;
  findBinary({
    command: "java",
    purpose: "Cannot run QuestDB locally",
    installHint: "install Java 17+",
    alternatives: ALTERNATIVES,
    unavailable,
  });
  if (fs.existsSync(jar)) return jar;
  findBinary({
    command: "mvn",
    purpose: `Cannot download QuestDB ${QUESTDB_VERSION}`,
    installHint: "install Maven",
    alternatives: ALTERNATIVES,
    unavailable,
  });
  const args = ["-q", "-B", "dependency:get", `-Dartifact=org.questdb:questdb:${QUESTDB_VERSION}`];
  if (process.env.MAVEN_REPO_LOCAL?.trim()) args.push(`-Dmaven.repo.local=${mavenRepoLocal()}`);
  const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn("mvn", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", (error) => resolve({ code: -1, output: String(error) }));
    child.on("close", (code) => resolve({ code, output }));
  });
  if (result.code !== 0 || !fs.existsSync(jar)) {
    const lastLine =
      result.output
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean)
        .find((line) => line.includes("ERROR")) ?? `exit code ${String(result.code)}`;
    throw new QuestdbUnavailableError(
      `Cannot download QuestDB ${QUESTDB_VERSION} with mvn (${lastLine.slice(0, 300)}), ${ALTERNATIVES}.`,
    );
  }
  return jar;
}

/** A TCP port that is free right now on 127.0.0.1 (the kernel's pick). */
export async function findFreePort(): Promise<number> {
  const [port] = await findFreePorts(1);
  return port!;
}

/** Several distinct free ports (all held open at once, so they cannot repeat). */
export async function findFreePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            if (address && typeof address === "object") resolve(address.port);
            else reject(new Error("could not read the port of a listening socket"));
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

/** Whether a port can be bound on all interfaces right now (QuestDB binds 0.0.0.0). */
export async function isPortFree(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "0.0.0.0", exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

export function pgUrlFor(pgPort: number, host = "127.0.0.1"): string {
  return `postgresql://admin:quest@${host}:${pgPort}/qdb`;
}

export function httpUrlFor(httpPort: number, host = "127.0.0.1"): string {
  return `http://${host}:${httpPort}`;
}

/** Whether QuestDB answers `SELECT 1` over the PG wire protocol at this URL (short timeouts). */
export async function answersQuery(pgUrl: string, timeoutMs = 1_000): Promise<boolean> {
  const client = new pg.Client({
    connectionString: pgUrl,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    client.end().catch(() => {});
  }
}

/** Whether QuestDB's HTTP server answers a query (ILP over HTTP is served by the same server). */
export async function answersHttp(httpUrl: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const response = await fetch(`${httpUrl}/exec?query=${encodeURIComponent("SELECT 1")}`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** The last lines of a log file (QuestDB's start-up noise about extracted files is left out). */
export function logTail(logFile: string, lines = 20): string {
  const text = readLog(logFile, logSize(logFile) - 16_384);
  if (!text) return "(no log)";
  return text
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.includes(" extracted [path="))
    .slice(-lines)
    .join("\n");
}

// ---------------------------------------------------------------------------------------------

export interface QuestdbStartOptions {
  /** QuestDB's root directory (`-d`); created if missing. Tables go to `<dataDir>/db`. */
  dataDir: string;
  pgPort: number;
  httpPort: number;
  /** The "min" HTTP server (health/metrics); disabled when not given. */
  httpMinPort?: number;
  /** ILP over TCP; disabled when not given (ILP over HTTP on httpPort always works). */
  ilpPort?: number;
  /** Where QuestDB's stdout/stderr go (appended); default `<dataDir>/questdb.log`. */
  logFile?: string;
  /** Survive this process (own process group, unref'd, not killed on exit). Default false. */
  detached?: boolean;
  /** How long to wait for QuestDB to answer a query; default 60 s. */
  readyTimeoutMs?: number;
  /** Called with the pid as soon as java is spawned (before it is ready), e.g. to write a pid file. */
  onSpawn?: (pid: number) => void;
}

type ResolvedOptions = Required<Omit<QuestdbStartOptions, "httpMinPort" | "ilpPort" | "onSpawn">> &
  Pick<QuestdbStartOptions, "httpMinPort" | "ilpPort" | "onSpawn">;

/** The environment that configures QuestDB's ports (QDB_<PROPERTY> overrides server.conf). */
function questdbEnv(options: ResolvedOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    QDB_TELEMETRY_ENABLED: "false",
    QDB_PG_NET_BIND_TO: `0.0.0.0:${options.pgPort}`,
    QDB_HTTP_BIND_TO: `0.0.0.0:${options.httpPort}`,
  };
  if (options.httpMinPort !== undefined) {
    env.QDB_HTTP_MIN_ENABLED = "true";
    env.QDB_HTTP_MIN_NET_BIND_TO = `0.0.0.0:${options.httpMinPort}`;
  } else {
    env.QDB_HTTP_MIN_ENABLED = "false";
  }
  if (options.ilpPort !== undefined) {
    env.QDB_LINE_TCP_ENABLED = "true";
    env.QDB_LINE_TCP_NET_BIND_TO = `0.0.0.0:${options.ilpPort}`;
  } else {
    env.QDB_LINE_TCP_ENABLED = "false";
  }
  return env;
}

/** One QuestDB server process (a java child of this process). */
export class QuestdbProcess extends RestartableChild {
  readonly pgUrl: string;
  readonly httpUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly pgPort: number;
  readonly httpPort: number;
  readonly httpMinPort: number | undefined;
  readonly ilpPort: number | undefined;

  private constructor(
    private readonly jar: string,
    private readonly options: ResolvedOptions,
  ) {
    super();
    this.dataDir = options.dataDir;
    this.logFile = options.logFile;
    this.pgPort = options.pgPort;
    this.httpPort = options.httpPort;
    this.httpMinPort = options.httpMinPort;
    this.ilpPort = options.ilpPort;
    this.pgUrl = pgUrlFor(options.pgPort);
    this.httpUrl = httpUrlFor(options.httpPort);
  }

  /** Spawns QuestDB and resolves once it answers `SELECT 1` over the PG wire port. */
  static async start(opts: QuestdbStartOptions): Promise<QuestdbProcess> {
    const jar = await ensureQuestdbJar();
    const dataDir = path.resolve(opts.dataDir);
    const options: ResolvedOptions = {
      dataDir,
      pgPort: opts.pgPort,
      httpPort: opts.httpPort,
      httpMinPort: opts.httpMinPort,
      ilpPort: opts.ilpPort,
      logFile: path.resolve(opts.logFile ?? path.join(dataDir, "questdb.log")),
      detached: opts.detached ?? false,
      readyTimeoutMs: opts.readyTimeoutMs ?? 60_000,
      onSpawn: opts.onSpawn,
    };
    const questdb = new QuestdbProcess(jar, options);
    await questdb.launch(false);
    return questdb;
  }

  /** The ports this QuestDB listens on (undefined ones are disabled). */
  get ports(): { pg: number; http: number; httpMin: number | undefined; ilp: number | undefined } {
    return { pg: this.pgPort, http: this.httpPort, httpMin: this.httpMinPort, ilp: this.ilpPort };
  }

  /** Graceful stop: SIGCONT (in case frozen), SIGTERM, SIGKILL after 10 s; resolves once gone. */
  async stop(): Promise<void> {
    await this.stopCurrent(STOP_GRACE_MS);
  }

  /**
   * Starts QuestDB again on the same ports and data directory (stopping it first if it still
   * runs) and resolves once it answers queries. Waits for the ports to become free.
   */
  async restart(): Promise<void> {
    if (this.isRunning()) await this.stop();
    await this.launch(true);
  }

  private get portList(): number[] {
    const ports = [this.pgPort, this.httpPort];
    if (this.httpMinPort !== undefined) ports.push(this.httpMinPort);
    if (this.ilpPort !== undefined) ports.push(this.ilpPort);
    return ports;
  }

  private spawnOnce(): ChildProcess {
    const { options } = this;
    fs.mkdirSync(options.dataDir, { recursive: true });
    fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
    const logFd = fs.openSync(options.logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn("java", ["-p", this.jar, "-m", "io.questdb/io.questdb.ServerMain", "-d", options.dataDir], {
        env: questdbEnv(options),
        stdio: ["ignore", logFd, logFd],
        detached: options.detached,
      });
    } finally {
      fs.closeSync(logFd);
    }
    this.adopt(child);
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    if (options.detached) child.unref();
    else killWithThisProcess(child);
    return child;
  }

  /**
   * Spawns java and waits until QuestDB answers over PG wire (and HTTP). When `retryBind`, a
   * process that dies because a port is still taken is started again until the deadline.
   */
  private async launch(retryBind: boolean): Promise<void> {
    const { options } = this;
    const startedAt = Date.now();
    const deadline = startedAt + options.readyTimeoutMs;
    const describe = () =>
      `QuestDB (pg ${this.pgPort}, http ${this.httpPort}, data ${options.dataDir}; log ${options.logFile})`;

    if (retryBind) {
      // After a kill the kernel may need a moment to release the listening sockets.
      for (;;) {
        const free = await Promise.all(this.portList.map((port) => isPortFree(port)));
        if (free.every(Boolean)) break;
        if (Date.now() > deadline) {
          const busy = this.portList.filter((_, i) => !free[i]);
          throw new Error(`${describe()} cannot restart: port(s) ${busy.join(", ")} still in use`);
        }
        await sleep(100);
      }
    }

    let logOffset = logSize(options.logFile);
    let child = this.spawnOnce();
    let spawnError: Error | null = null;
    child.once("error", (error) => (spawnError = error));

    for (;;) {
      if (spawnError) throw new Error(`${describe()} could not be spawned: ${(spawnError as Error).message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        const tail = logTail(options.logFile);
        const bindFailure = readLog(options.logFile, logOffset, logOffset + 1_000_000).includes(
          "could not bind socket",
        );
        if (retryBind && bindFailure && Date.now() < deadline) {
          await sleep(250);
          logOffset = logSize(options.logFile);
          child = this.spawnOnce();
          child.once("error", (error) => (spawnError = error));
          continue;
        }
        throw new Error(
          `${describe()} exited during start-up (code ${String(child.exitCode)}, signal ${String(child.signalCode)})` +
            `${firstError(readLog(options.logFile, logOffset, logOffset + 1_000_000))}:\n${tail}`,
        );
      }
      if ((await answersQuery(this.pgUrl, 1_000)) && (await answersHttp(this.httpUrl, 1_000))) return;
      if (Date.now() > deadline) {
        const tail = logTail(options.logFile);
        child.kill("SIGKILL");
        await this.whenCurrentExited();
        throw new Error(`${describe()} did not answer a query within ${options.readyTimeoutMs} ms:\n${tail}`);
      }
      await sleep(100);
    }
  }
}

/** The first error line of a QuestDB log excerpt, as ": <line>" (empty when there is none). */
function firstError(log: string): string {
  const lines = log.split("\n").filter((l) => !l.includes(" extracted [path="));
  // A busy port shows as "NetworkError: [98] could not bind socket [who=..., bindTo=...]".
  const line =
    lines.find((l) => l.includes("could not bind")) ?? lines.find((l) => /Exception|Error:|\sE\s|\sC\s/.test(l));
  return line ? `: ${line.trim().slice(0, 300)}` : "";
}

/**
 * A throw-away QuestDB for integration tests and the e2e fixture: four free ports (pg, http,
 * min http, ILP/TCP) and a fresh temporary root directory unless one is given. Killed when this
 * process exits; call stop() (and remove dataDir) when done.
 */
export async function startTestQuestdb(opts: { dataDir?: string } = {}): Promise<QuestdbProcess> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "questdb-test-"));
  // A free port may be taken between the check and QuestDB's bind (another test starting a server
  // at the same moment, as CI once saw): then four other ports are tried.
  for (let attempt = 1; ; attempt++) {
    const [pgPort, httpPort, httpMinPort, ilpPort] = await findFreePorts(4);
    try {
      return await QuestdbProcess.start({
        dataDir,
        pgPort: pgPort!,
        httpPort: httpPort!,
        httpMinPort: httpMinPort!,
        ilpPort: ilpPort!,
      });
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error && error.message.includes("could not bind"))) throw error;
    }
  }
}
