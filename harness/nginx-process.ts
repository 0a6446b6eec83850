import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { findBinary } from "./binaries";
import { killWithThisProcess } from "./child-cleanup";
import { stopChild, whenExited } from "./child-exit";
import { logSize, readLog } from "./log-file";
import { startOnFreePort } from "./start-on-free-port";

/**
 * A real HTTP load balancer for the fleet-mode tests: the Debian `nginx` binary, round-robin over
 * app instances on 127.0.0.1, on a free loopback port. Everything it writes (pid, logs, temp
 * files) stays in its own temp dir and its configuration is always ours (`-c`), never
 * /etc/nginx/nginx.conf. It runs in the foreground as a child of this process, killed with it.
 */

const READY_TIMEOUT_MS = 10_000;
const RELOAD_TIMEOUT_MS = 10_000;

/** Thrown (with one line) when nginx cannot be found, configured or started. */
export class NginxUnavailableError extends Error {
  override name = "NginxUnavailableError";
}

/** $NGINX_BIN when set, else `nginx` from PATH or /usr/sbin; one clear line when neither works. */
export function nginxBinary(): string {
  return findBinary({
    command: "nginx",
    envVar: "NGINX_BIN",
    // Where Debian puts it, often not on a non-root user's PATH.
    extraDirs: ["/usr/sbin"],
    purpose: "Cannot run a load balancer",
    installHint: "apt-get install nginx",
    unavailable: NginxUnavailableError,
  });
}

/**
 * Whether this nginx takes `-e <file>` (1.19.5 and later). Without it nginx opens its compiled-in
 * error log (/var/log/nginx/error.log on many builds) before it reads our configuration.
 */
function supportsErrorLogFlag(bin: string): boolean {
  const help = spawnSync(bin, ["-h"], { encoding: "utf8" });
  return `${help.stdout ?? ""}${help.stderr ?? ""}`.includes("-e filename");
}

/** The nginx.conf of a balancer whose files all live in `dir`. */
export function loadBalancerConfig(dir: string, port: number, upstreamPorts: number[]): string {
  const file = (name: string) => path.join(dir, name);
  // A root master would switch its workers to "nobody", who cannot write to our 0700 temp dir.
  const user = process.getuid?.() === 0 ? "user root root;\n" : "";
  return `# Written by harness/nginx-process.ts: round-robin over the fleet's app instances.
daemon off;
master_process on;
worker_processes 1;
${user}pid ${file("nginx.pid")};
error_log ${file("error.log")} notice;

events {
  worker_connections 1024;
}

http {
  log_format upstream '$remote_addr [$time_local] "$request" $status upstream=$upstream_addr/$upstream_status';
  access_log ${file("access.log")} upstream;
  client_body_temp_path ${file("client_body_temp")};
  proxy_temp_path ${file("proxy_temp")};
  fastcgi_temp_path ${file("fastcgi_temp")};
  uwsgi_temp_path ${file("uwsgi_temp")};
  scgi_temp_path ${file("scgi_temp")};

  upstream fleet {
    # max_fails=0: an instance is never marked down, so a restarted one gets traffic at once.
${upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=0;`).join("\n")}
  }

  server {
    listen 127.0.0.1:${port};

    location / {
      proxy_pass http://fleet;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      # Server-sent events and long polls pass through at once and may stay open.
      proxy_buffering off;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      # An instance that refuses the connection is skipped; any answer it gives (even a 5xx) is
      # passed on as it is, so each instance's own behaviour stays visible.
      proxy_next_upstream error timeout;
      proxy_connect_timeout 5s;
    }
  }
}
`;
}

export interface LoadBalancer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The master's pid (its workers are its children). */
  pid: number;
  dir: string;
  isRunning(): boolean;
  /** Points the balancer at these instances instead; resolves once the new workers serve. */
  reload(upstreamPorts: number[]): Promise<void>;
  /** SIGTERM, SIGKILL (of master and workers) after 5 s; resolves once gone and its temp dir is removed. */
  stop(): Promise<void>;
}

/**
 * Starts nginx as a round-robin HTTP load balancer on a free loopback port in front of
 * 127.0.0.1:<port> for each upstream port; resolves once its port accepts connections.
 */
export async function startLoadBalancer(opts: { upstreamPorts: number[] }): Promise<LoadBalancer> {
  checkUpstreams(opts.upstreamPorts);
  const bin = nginxBinary();
  const errorLogFlag = supportsErrorLogFlag(bin);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nginx-test-"));
  const confFile = path.join(dir, "nginx.conf");
  const errorLog = path.join(dir, "error.log");
  const args = ["-p", `${dir}/`, "-c", confFile, ...(errorLogFlag ? ["-e", errorLog] : [])];

  const startOn = async (port: number): Promise<LoadBalancer> => {
    fs.writeFileSync(confFile, loadBalancerConfig(dir, port, opts.upstreamPorts));
    const logOffset = logSize(errorLog);
    const child = spawnNginx(bin, args, dir);
    let spawnError: Error | undefined;
    child.once("error", (error) => (spawnError = error));
    const exited = whenExited(child);
    const isRunning = () => spawnError === undefined && child.exitCode === null && child.signalCode === null;
    const describe = () => `nginx (${bin}, port ${port}; log ${errorLog})`;

    const failure = await waitUntilListening(port, isRunning, () => spawnError, errorLog, logOffset);
    if (failure !== null) {
      if (isRunning()) child.kill("SIGKILL");
      await exited;
      throw new NginxUnavailableError(`${describe()} ${failure}`);
    }
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      pid: child.pid ?? -1,
      dir,
      isRunning,
      async reload(upstreamPorts) {
        checkUpstreams(upstreamPorts);
        if (!isRunning()) throw new Error(`${describe()} is not running: cannot reload`);
        await reloadConfig(
          bin,
          args,
          confFile,
          loadBalancerConfig(dir, port, upstreamPorts),
          child.pid!,
          errorLog,
          describe,
        );
      },
      async stop() {
        // SIGTERM to the master alone: it stops its workers and exits once they are gone.
        await stopChild(child, exited, { isRunning, terminate: () => process.kill(child.pid!, "SIGTERM") });
        await waitForGroupGone(child.pid!);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  };
  try {
    return await startOnFreePort(
      startOn,
      (error) => error instanceof NginxUnavailableError && /address already in use/i.test(error.message),
    );
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function checkUpstreams(upstreamPorts: number[]): void {
  if (upstreamPorts.length === 0 || !upstreamPorts.every((p) => Number.isInteger(p) && p > 0 && p < 65_536)) {
    throw new Error(`a load balancer needs at least one upstream port, got [${upstreamPorts.join(", ")}]`);
  }
}

/**
 * nginx in its own process group, registered to be killed with this process. A master killed
 * with SIGKILL leaves its workers serving on the port, so every kill of this child (also the
 * one child-cleanup sends when this process ends) goes to the whole group.
 */
function spawnNginx(bin: string, args: string[], dir: string): ChildProcess {
  const out = fs.openSync(path.join(dir, "nginx.out"), "a");
  let child: ChildProcess;
  try {
    child = spawn(bin, args, { cwd: dir, stdio: ["ignore", out, out], detached: true });
  } finally {
    fs.closeSync(out);
  }
  const killMaster = child.kill.bind(child);
  child.kill = (signal?: NodeJS.Signals | number) => {
    if (child.pid === undefined) return false;
    try {
      process.kill(-child.pid, signal);
      return true;
    } catch {
      return killMaster(signal);
    }
  };
  killWithThisProcess(child);
  return child;
}

/** Null once a TCP connection to the port succeeds; otherwise why not, in one line. */
async function waitUntilListening(
  port: number,
  isRunning: () => boolean,
  spawnError: () => Error | undefined,
  errorLog: string,
  logOffset: number,
): Promise<string | null> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const error = spawnError();
    if (error) return `could not be spawned: ${error.message}`;
    if (!isRunning()) return `exited during start-up: ${firstProblem(readLog(errorLog, logOffset)) ?? "(no log)"}`;
    if (await acceptsConnection(port)) return null;
    if (Date.now() > deadline)
      return `did not listen within ${READY_TIMEOUT_MS} ms: ${firstProblem(readLog(errorLog, logOffset)) ?? "(no log)"}`;
    await sleep(50);
  }
}

function acceptsConnection(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

/**
 * Checks the new configuration with `nginx -t`, puts it in place and sends SIGHUP to the master;
 * resolves once a new worker has started and the old one has stopped accepting connections.
 */
async function reloadConfig(
  bin: string,
  args: string[],
  confFile: string,
  config: string,
  masterPid: number,
  errorLog: string,
  describe: () => string,
): Promise<void> {
  const candidate = `${confFile}.next`;
  fs.writeFileSync(candidate, config);
  const check = spawnSync(bin, ["-t", "-q", ...args.map((a) => (a === confFile ? candidate : a))], {
    encoding: "utf8",
  });
  if (check.status !== 0) {
    throw new Error(
      `${describe()} rejected the new configuration: ${firstProblem(`${check.stderr}\n${check.stdout}`) ?? `exit ${check.status}`}`,
    );
  }
  fs.renameSync(candidate, confFile);

  const logOffset = logSize(errorLog);
  process.kill(masterPid, "SIGHUP");
  const deadline = Date.now() + RELOAD_TIMEOUT_MS;
  for (;;) {
    const log = readLog(errorLog, logOffset);
    const problem = /\[(emerg|alert)\]/.test(log) ? firstProblem(log) : undefined;
    if (problem) throw new Error(`${describe()} could not reload: ${problem}`);
    // The old worker logs "gracefully shutting down" and closes its listening socket right after.
    if (log.includes("start worker process") && log.includes("gracefully shutting down")) break;
    if (Date.now() > deadline) throw new Error(`${describe()} did not reload within ${RELOAD_TIMEOUT_MS} ms`);
    await sleep(20);
  }
  await sleep(50);
}

/** After the master is gone: waits (briefly) until no process of its group is left. */
async function waitForGroupGone(pgid: number): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (Date.now() < deadline) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await sleep(20);
  }
}

/** The first [emerg]/[alert]/[crit] line of an nginx log excerpt, else its last line. */
function firstProblem(log: string): string | undefined {
  const lines = log
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return (lines.find((l) => /\[(emerg|alert|crit)\]/.test(l)) ?? lines.pop())?.slice(0, 300);
}
