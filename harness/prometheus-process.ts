import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { findBinary } from "./binaries";
import { RestartableChild, isBindFailure } from "./restartable-child";
import { startOnFreePort } from "./start-on-free-port";

/**
 * Debian's Prometheus (2.42) for the tests of deploy/prometheus/: `promtool` to check and unit-test
 * the shipped config and rules, and a throw-away `prometheus` server on a free loopback port with
 * its own data dir, killed with this process, to see alerts fire against the real app.
 */

const READY_TIMEOUT_MS = 20_000;

/** Thrown (with one line) when prometheus or promtool cannot be found or started. */
export class PrometheusUnavailableError extends Error {
  override name = "PrometheusUnavailableError";
}

const INSTALL_HINT = "apt-get install prometheus";

/** $PROMTOOL_BIN when set, else `promtool` from PATH. */
export function promtoolBinary(): string {
  return findBinary({
    command: "promtool",
    envVar: "PROMTOOL_BIN",
    purpose: "Cannot check the Prometheus rules",
    installHint: INSTALL_HINT,
    unavailable: PrometheusUnavailableError,
  });
}

/** $PROMETHEUS_BIN when set, else `prometheus` from PATH. */
export function prometheusBinary(): string {
  return findBinary({
    command: "prometheus",
    envVar: "PROMETHEUS_BIN",
    purpose: "Cannot run Prometheus",
    installHint: INSTALL_HINT,
    unavailable: PrometheusUnavailableError,
  });
}

/** Runs promtool with `args` (stdin from `input`); its exit code and both outputs together. */
export function runPromtool(args: string[], opts: { cwd?: string; input?: string } = {}) {
  const result = spawnSync(promtoolBinary(), args, {
    cwd: opts.cwd,
    input: opts.input,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

/** An alert as Prometheus's HTTP API reports it (`GET /api/v1/alerts`). */
export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: "pending" | "firing";
  activeAt: string;
  value: string;
}

export interface PrometheusStartOptions {
  /** prometheus.yml's text; relative paths in it (rule files, token files) are read from `files`. */
  config: string;
  /** Files written beside the config before the start: name → content. */
  files?: Record<string, string>;
  readyTimeoutMs?: number;
}

/** One prometheus child process. */
export class PrometheusProcess extends RestartableChild {
  private constructor(
    private readonly bin: string,
    /** Its temp dir: the config, the files beside it, `data/` and `prometheus.log`; removed by stop(). */
    readonly dir: string,
    readonly port: number,
  ) {
    super();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get logFile(): string {
    return path.join(this.dir, "prometheus.log");
  }

  /** Writes the config and its files to a temp dir, starts Prometheus, resolves once /-/ready answers. */
  static async start(opts: PrometheusStartOptions): Promise<PrometheusProcess> {
    const bin = prometheusBinary();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "prometheus-test-"));
    fs.writeFileSync(path.join(dir, "prometheus.yml"), opts.config);
    for (const [name, content] of Object.entries(opts.files ?? {})) fs.writeFileSync(path.join(dir, name), content);
    const readyTimeoutMs = opts.readyTimeoutMs ?? READY_TIMEOUT_MS;
    try {
      return await startOnFreePort(
        async (port) => {
          const prometheus = new PrometheusProcess(bin, dir, port);
          const failure = await prometheus.launch(Date.now() + readyTimeoutMs);
          if (failure !== null) throw new PrometheusUnavailableError(`${prometheus.describe()} ${failure}`);
          return prometheus;
        },
        (error) => error instanceof PrometheusUnavailableError && isBindFailure(error.message),
      );
    } catch (error) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The pending and firing alerts, from the HTTP API. */
  async alerts(): Promise<PrometheusAlert[]> {
    const response = await fetch(`${this.url}/api/v1/alerts`, { signal: AbortSignal.timeout(2_000) });
    const body = (await response.json()) as { status: string; data: { alerts: PrometheusAlert[] } };
    if (body.status !== "success") throw new Error(`${this.describe()} answered /api/v1/alerts with ${body.status}`);
    return body.data.alerts;
  }

  /** The scrape targets' health (`up`/`down`) and last error, from the HTTP API. */
  async targets(): Promise<{ scrapeUrl: string; health: string; lastError: string }[]> {
    const response = await fetch(`${this.url}/api/v1/targets`, { signal: AbortSignal.timeout(2_000) });
    const body = (await response.json()) as {
      data: { activeTargets: { scrapeUrl: string; health: string; lastError: string }[] };
    };
    return body.data.activeTargets;
  }

  /** SIGTERM, SIGKILL after 5 s; resolves once gone and its temp dir is removed. */
  async stop(): Promise<void> {
    await this.stopCurrent();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private describe(): string {
    return `Prometheus (${this.bin}, port ${this.port}; log ${this.logFile})`;
  }

  private launch(deadline: number): Promise<string | null> {
    return this.spawnUntilReady({
      logFile: this.logFile,
      spawn: (out) =>
        spawn(
          this.bin,
          [
            `--config.file=${path.join(this.dir, "prometheus.yml")}`,
            `--storage.tsdb.path=${path.join(this.dir, "data")}`,
            `--web.listen-address=127.0.0.1:${this.port}`,
            "--log.level=warn",
          ],
          { cwd: this.dir, stdio: ["ignore", out, out] },
        ),
      ready: async () => {
        try {
          const response = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(500) });
          await response.arrayBuffer();
          return response.ok;
        } catch {
          return false;
        }
      },
      readiness: "/-/ready",
      failureLine: (log) => log.split("\n").find((l) => /address already in use|level=error|err=/i.test(l)),
      deadline,
      pollMs: 100,
    });
  }
}

/** A Prometheus for one test file, on a free loopback port; call stop() when done. */
export function startPrometheus(opts: PrometheusStartOptions): Promise<PrometheusProcess> {
  return PrometheusProcess.start(opts);
}
