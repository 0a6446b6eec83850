import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { killWithThisProcess } from "./child-cleanup";
import { logSize, readLog } from "./log-file";
import { findFreePort } from "./questdb-process";

/**
 * A throw-away Redis server for the fleet-mode tests: the Debian `redis-server` binary on a free
 * loopback port, its own temp dir, nothing persisted, killed with this process. Readiness and
 * health are checked with a raw `PING` over TCP, so no Redis client library is needed here.
 */

/** How long a stop waits after SIGTERM before it sends SIGKILL. */
const STOP_GRACE_MS = 5_000;
const READY_TIMEOUT_MS = 10_000;
const START_ATTEMPTS = 3;

/** Thrown (with one line) when redis-server cannot be found or started. */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RedisUnavailableError";
  }
}

/** $REDIS_SERVER_BIN when set, else `redis-server` from PATH; one clear line when neither works. */
export function redisServerBinary(): string {
  const configured = process.env.REDIS_SERVER_BIN?.trim();
  if (configured) {
    const bin = path.resolve(configured);
    if (!isExecutable(bin)) {
      throw new RedisUnavailableError(`REDIS_SERVER_BIN is set to ${bin}, which is not an executable file.`);
    }
    return bin;
  }
  const dirs = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  const found = dirs.map((dir) => path.join(dir, "redis-server")).find(isExecutable);
  if (!found) {
    throw new RedisUnavailableError(
      "Cannot run Redis: redis-server is not on PATH (apt-get install redis-server, or set REDIS_SERVER_BIN).",
    );
  }
  return found;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Whether a Redis server on 127.0.0.1:port answers a raw `PING` with `+PONG` within timeoutMs.
 * False on a refused connection, a timeout (a frozen server accepts but never answers) or any
 * other answer.
 */
export function answersPing(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let answer = "";
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
      if (answer.includes("\r\n")) finish(answer.startsWith("+PONG"));
    });
    socket.once("error", () => finish(false));
    socket.once("close", () => finish(false));
  });
}

export interface RedisStartOptions {
  /** A fixed port; default a free one (another one is tried if it is taken before Redis binds). */
  port?: number;
  /** How long to wait for `+PONG`; default 10 s. */
  readyTimeoutMs?: number;
}

/** One redis-server child process. */
export class RedisProcess {
  /** `redis://127.0.0.1:<port>` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    private readonly bin: string,
    /** Its temp dir: working directory (`--dir`) and `redis.log`; removed by stop(). */
    readonly dir: string,
    public port: number,
    private readonly readyTimeoutMs: number,
  ) {}

  get logFile(): string {
    return path.join(this.dir, "redis.log");
  }

  /** The pid of the current redis-server (the last one, after it exited). */
  get pid(): number {
    return this.child?.pid ?? -1;
  }

  /** Starts redis-server and resolves once it answers PING. */
  static async start(opts: RedisStartOptions = {}): Promise<RedisProcess> {
    const bin = redisServerBinary();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-test-"));
    const readyTimeoutMs = opts.readyTimeoutMs ?? READY_TIMEOUT_MS;
    // A free port may be taken between the check and the bind: try again on another one.
    for (let attempt = 1; ; attempt++) {
      const redis = new RedisProcess(bin, dir, opts.port ?? (await findFreePort()), readyTimeoutMs);
      const failure = await redis.launch(Date.now() + readyTimeoutMs);
      if (failure === null) return redis;
      if (opts.port !== undefined || attempt >= START_ATTEMPTS || !isBindFailure(failure)) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw new RedisUnavailableError(`${redis.describe()} ${failure}`);
      }
    }
  }

  isRunning(): boolean {
    const child = this.child;
    return child !== null && child.exitCode === null && child.signalCode === null;
  }

  /** SIGKILL (like a crash) and wait until the process is gone: new connections are refused. */
  async kill(): Promise<void> {
    if (!this.isRunning()) return;
    this.child?.kill("SIGKILL");
    await this.exited;
  }

  /** SIGSTOP: the port still accepts TCP connections, but nothing is answered. */
  freeze(): void {
    if (this.isRunning()) this.child?.kill("SIGSTOP");
  }

  /** SIGCONT: undoes freeze(). */
  thaw(): void {
    if (this.isRunning()) this.child?.kill("SIGCONT");
  }

  /** Starts Redis again on the same port (killing it first if it still runs); resolves once it answers PING. */
  async restart(): Promise<void> {
    await this.kill();
    // The same port may still be bound for a moment after the kill: retry until the deadline.
    const deadline = Date.now() + this.readyTimeoutMs;
    for (;;) {
      const failure = await this.launch(deadline);
      if (failure === null) return;
      if (!isBindFailure(failure) || Date.now() > deadline) {
        throw new RedisUnavailableError(`${this.describe()} cannot restart: ${failure}`);
      }
      await sleep(100);
    }
  }

  /** SIGCONT (in case frozen), SIGTERM, SIGKILL after 5 s; resolves once gone and its temp dir is removed. */
  async stop(): Promise<void> {
    if (this.isRunning()) {
      const child = this.child!;
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      const timer = setTimeout(() => this.isRunning() && child.kill("SIGKILL"), STOP_GRACE_MS);
      try {
        await this.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private describe(): string {
    return `Redis (${this.bin}, port ${this.port}; log ${this.logFile})`;
  }

  /** Spawns redis-server; null once it answers PING, otherwise why not in one line. */
  private async launch(deadline: number): Promise<string | null> {
    fs.mkdirSync(this.dir, { recursive: true });
    const logOffset = logSize(this.logFile);
    const out = fs.openSync(this.logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(
        this.bin,
        // No config file: every setting is on the command line; `--save ""` turns RDB snapshots off.
        ["--port", String(this.port), "--bind", "127.0.0.1", "--daemonize", "no", "--save", "", "--appendonly", "no", "--dir", this.dir],
        { cwd: this.dir, stdio: ["ignore", out, out] },
      );
    } finally {
      fs.closeSync(out);
    }
    this.child = child;
    let spawnError: Error | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.once("error", (error) => {
        spawnError = error;
        resolve();
      });
    });
    killWithThisProcess(child);

    for (;;) {
      if (spawnError) return `could not be spawned: ${spawnError.message}`;
      if (!this.isRunning()) {
        const log = readLog(this.logFile, logOffset);
        const lines = log.split("\n");
        const line =
          lines.find((l) => /address already in use/i.test(l)) ??
          lines.find((l) => /fatal|failed|bad directive|can't|cannot/i.test(l)) ??
          lastLine(log) ??
          "(no log)";
        return `exited during start-up (code ${String(child.exitCode)}, signal ${String(child.signalCode)}): ${line.trim().slice(0, 300)}`;
      }
      if (await answersPing(this.port, 500)) return null;
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        await this.exited;
        return `did not answer PING in time: ${lastLine(readLog(this.logFile, logOffset)) ?? "(no log)"}`;
      }
      await sleep(50);
    }
  }
}

/** redis-server logs "Address already in use" (and exits) when its port is taken. */
function isBindFailure(failure: string): boolean {
  return /address already in use/i.test(failure);
}

function lastLine(text: string): string | undefined {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .pop();
}

/** A Redis for one test file, on a free loopback port; call stop() when done. */
export function startRedis(opts: RedisStartOptions = {}): Promise<RedisProcess> {
  return RedisProcess.start(opts);
}
