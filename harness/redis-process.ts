import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { findBinary } from "./binaries";
import { RestartableChild, isBindFailure } from "./restartable-child";
import { startOnFreePort } from "./start-on-free-port";

/**
 * A throw-away Redis server for the fleet-mode tests: the Debian `redis-server` binary on a free
 * loopback port, its own temp dir, nothing persisted, killed with this process. Readiness and
 * health are checked with a raw `PING` over TCP, so no Redis client library is needed here.
 */

const READY_TIMEOUT_MS = 10_000;

/** Thrown (with one line) when redis-server cannot be found or started. */
export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
}

/** $REDIS_SERVER_BIN when set, else `redis-server` from PATH; one clear line when neither works. */
export function redisServerBinary(): string {
  return findBinary({
    command: "redis-server",
    envVar: "REDIS_SERVER_BIN",
    purpose: "Cannot run Redis",
    installHint: "apt-get install redis-server",
    unavailable: RedisUnavailableError,
  });
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
export class RedisProcess extends RestartableChild {
  /** `redis://127.0.0.1:<port>` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private constructor(
    private readonly bin: string,
    /** Its temp dir: working directory (`--dir`) and `redis.log`; removed by stop(). */
    readonly dir: string,
    public port: number,
    private readonly readyTimeoutMs: number,
  ) {
    super();
  }

  get logFile(): string {
    return path.join(this.dir, "redis.log");
  }

  /** Starts redis-server and resolves once it answers PING. */
  static async start(opts: RedisStartOptions = {}): Promise<RedisProcess> {
    const bin = redisServerBinary();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-test-"));
    const readyTimeoutMs = opts.readyTimeoutMs ?? READY_TIMEOUT_MS;
    const startOn = async (port: number) => {
      const redis = new RedisProcess(bin, dir, port, readyTimeoutMs);
      const failure = await redis.launch(Date.now() + readyTimeoutMs);
      if (failure !== null) throw new RedisUnavailableError(`${redis.describe()} ${failure}`);
      return redis;
    };
    try {
      // A fixed port is the caller's choice: it is not swapped for another when taken.
      if (opts.port !== undefined) return await startOn(opts.port);
      return await startOnFreePort(
        startOn,
        (error) => error instanceof RedisUnavailableError && isBindFailure(error.message),
      );
    } catch (error) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Starts Redis again on the same port (killing it first if it still runs); resolves once it answers PING. */
  async restart(): Promise<void> {
    await this.relaunchOnSamePort(
      (deadline) => this.launch(deadline),
      this.readyTimeoutMs,
      (failure) => new RedisUnavailableError(`${this.describe()} cannot restart: ${failure}`),
    );
  }

  /** SIGCONT (in case frozen), SIGTERM, SIGKILL after 5 s; resolves once gone and its temp dir is removed. */
  async stop(): Promise<void> {
    await this.stopCurrent();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private describe(): string {
    return `Redis (${this.bin}, port ${this.port}; log ${this.logFile})`;
  }

  /** Spawns redis-server; null once it answers PING, otherwise why not in one line. */
  private launch(deadline: number): Promise<string | null> {
    fs.mkdirSync(this.dir, { recursive: true });
    return this.spawnUntilReady({
      logFile: this.logFile,
      spawn: (out) =>
        spawn(
          this.bin,
          // No config file: every setting is on the command line; `--save ""` turns RDB snapshots off.
          [
            "--port",
            String(this.port),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            this.dir,
          ],
          { cwd: this.dir, stdio: ["ignore", out, out] },
        ),
      ready: () => answersPing(this.port, 500),
      readiness: "PING",
      failureLine: (log) => {
        const lines = log.split("\n");
        return (
          lines.find((l) => /address already in use/i.test(l)) ??
          lines.find((l) => /fatal|failed|bad directive|can't|cannot/i.test(l))
        );
      },
      deadline,
      pollMs: 50,
    });
  }
}

/** A Redis for one test file, on a free loopback port; call stop() when done. */
export function startRedis(opts: RedisStartOptions = {}): Promise<RedisProcess> {
  return RedisProcess.start(opts);
}
