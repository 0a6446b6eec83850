import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { binaryFromEnv } from "./binaries";
import { killWithThisProcess } from "./child-cleanup";
import { isRunning, stopChild, whenExited } from "./child-exit";
import { lastLine, logSize, readLog } from "./log-file";
import { startOnFreePort } from "./start-on-free-port";

/**
 * Toxiproxy (github.com/Shopify/toxiproxy), a real TCP proxy that injects faults between the app
 * and QuestDB: latency, a blackhole, resets, a cut in the middle of a result, a proxy that is down.
 * Its server is built from the Go module by harness/toxiproxy-install.sh (the one version pin) and
 * driven here through its HTTP API; the toxiproxy CLI and client libraries are not used.
 */

const INSTALL_SCRIPT = path.join(__dirname, "toxiproxy-install.sh");

/** Thrown (with one line) when the Toxiproxy server cannot be found, built or started. */
export class ToxiproxyUnavailableError extends Error {
  override name = "ToxiproxyUnavailableError";
}

/**
 * The path of the toxiproxy-server binary: $TOXIPROXY_BIN when set (used as it is), otherwise
 * ~/go/bin/toxiproxy-server, built with the machine's Go by harness/toxiproxy-install.sh when it is
 * missing or not the pinned version (about 40 s on a fresh machine, instant after).
 */
export async function ensureToxiproxyBinary(): Promise<string> {
  const configured = binaryFromEnv("TOXIPROXY_BIN", ToxiproxyUnavailableError);
  if (configured) return configured;

  const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn("bash", [INSTALL_SCRIPT], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error) => resolve({ code: -1, stdout, stderr: String(error) }));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  const bin = result.stdout.trim().split("\n").pop() ?? "";
  if (result.code !== 0 || !bin || !fs.existsSync(bin)) {
    const why = lastLine(result.stderr) ?? `exit code ${String(result.code)}`;
    throw new ToxiproxyUnavailableError(`${INSTALL_SCRIPT} failed: ${why.slice(0, 300)}`);
  }
  return bin;
}

// ---------------------------------------------------------------------------------------------
// Toxics: the JSON that POST /proxies/{proxy}/toxics takes, one builder per type we use.

/** Which way a toxic acts: "downstream" is server → client (the default), "upstream" client → server. */
export type ToxicStream = "upstream" | "downstream";

export type ToxicAttributes = {
  latency: { latency: number; jitter: number };
  bandwidth: { rate: number };
  timeout: { timeout: number };
  reset_peer: { timeout: number };
  limit_data: { bytes: number };
  slow_close: { delay: number };
  slicer: { average_size: number; size_variation: number; delay: number };
};

export type ToxicType = keyof ToxicAttributes;

/** A toxic as Toxiproxy takes it; name defaults to `<type>_<stream>`, toxicity to 1 (always). */
export type ToxicSpec = {
  [T in ToxicType]: {
    type: T;
    name?: string;
    stream?: ToxicStream;
    /** Probability (0..1) that a new connection gets this toxic. */
    toxicity?: number;
    attributes: ToxicAttributes[T];
  };
}[ToxicType];

/** A toxic as Toxiproxy reports it (every field filled in). */
export type Toxic = Required<ToxicSpec>;

/** Options common to every toxic. */
export type ToxicOptions = { name?: string; stream?: ToxicStream; toxicity?: number };

function spec<T extends ToxicType>(type: T, attributes: ToxicAttributes[T], options: ToxicOptions): ToxicSpec {
  return { ...options, type, attributes } as ToxicSpec;
}

export const toxic = {
  /** Delays every chunk of data by `latencyMs` ± `jitterMs`. */
  latency: (latencyMs: number, jitterMs = 0, options: ToxicOptions = {}): ToxicSpec =>
    spec("latency", { latency: latencyMs, jitter: jitterMs }, options),
  /** Passes at most `rateKBps` kilobytes per second. */
  bandwidth: (rateKBps: number, options: ToxicOptions = {}): ToxicSpec =>
    spec("bandwidth", { rate: rateKBps }, options),
  /** Drops all data and closes the connection after `timeoutMs`; 0 holds it open forever (a blackhole). */
  timeout: (timeoutMs: number, options: ToxicOptions = {}): ToxicSpec =>
    spec("timeout", { timeout: timeoutMs }, options),
  /**
   * Closes the connection `afterMs` after the first data. A connection opened while the toxic is
   * in place gets a TCP RST (ECONNRESET); one already open when it is added gets a plain close.
   */
  resetPeer: (afterMs = 0, options: ToxicOptions = {}): ToxicSpec => spec("reset_peer", { timeout: afterMs }, options),
  /** Passes `bytes` bytes (counted from when the toxic is added), then closes the connection. */
  limitData: (bytes: number, options: ToxicOptions = {}): ToxicSpec => spec("limit_data", { bytes }, options),
  /** Delays the close of a connection by `delayMs`. */
  slowClose: (delayMs: number, options: ToxicOptions = {}): ToxicSpec =>
    spec("slow_close", { delay: delayMs }, options),
};

// ---------------------------------------------------------------------------------------------
// The HTTP API.

/** A proxy's fields as Toxiproxy reports them (GET/POST /proxies/{proxy}). */
interface ProxyFields {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: Toxic[];
}

async function callApi<T>(
  apiUrl: string,
  method: "GET" | "POST" | "DELETE",
  route: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${apiUrl}${route}`, {
    method,
    headers: body === undefined ? undefined : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) {
    // Errors come as {"error": "proxy not found", "status": 404}.
    let reason = text.trim();
    try {
      reason = (JSON.parse(text) as { error?: string }).error ?? reason;
    } catch {
      // not JSON: keep the text
    }
    throw new Error(`Toxiproxy ${method} ${route}: ${response.status} ${reason}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

/** One proxy: listens on 127.0.0.1:listenPort and forwards to its upstream through its toxics. */
export interface Proxy {
  name: string;
  listenPort: number;
  upstream: string;
  addToxic(spec: ToxicSpec): Promise<Toxic>;
  removeToxic(name: string): Promise<void>;
  toxics(): Promise<Toxic[]>;
  /** Removes every toxic of this proxy (POST /reset would reset every proxy of the server). */
  resetToxics(): Promise<void>;
  /** Closes the listener and every open connection: new connections are refused. */
  disable(): Promise<void>;
  /** Listens again, on the same port. */
  enable(): Promise<void>;
  delete(): Promise<void>;
}

export interface Toxiproxy {
  apiUrl: string;
  pid: number;
  logFile: string;
  version(): Promise<string>;
  /** A proxy on a free loopback port (Toxiproxy picks it) in front of `upstream` ("127.0.0.1:port"). */
  createProxy(name: string, upstream: string): Promise<Proxy>;
  /** SIGTERM, SIGKILL after 5 s; resolves once the server is gone (its log is removed). */
  stop(): Promise<void>;
}

function proxyHandle(apiUrl: string, fields: ProxyFields): Proxy {
  const route = `/proxies/${encodeURIComponent(fields.name)}`;
  const listenPort = Number(fields.listen.slice(fields.listen.lastIndexOf(":") + 1));
  const proxy: Proxy = {
    name: fields.name,
    listenPort,
    upstream: fields.upstream,
    addToxic: (spec) => callApi<Toxic>(apiUrl, "POST", `${route}/toxics`, spec),
    removeToxic: (name) => callApi<void>(apiUrl, "DELETE", `${route}/toxics/${encodeURIComponent(name)}`),
    toxics: () => callApi<Toxic[]>(apiUrl, "GET", `${route}/toxics`),
    async resetToxics() {
      for (const { name } of await proxy.toxics()) await proxy.removeToxic(name);
    },
    disable: async () => void (await callApi<ProxyFields>(apiUrl, "POST", route, { enabled: false })),
    enable: async () => void (await callApi<ProxyFields>(apiUrl, "POST", route, { enabled: true })),
    delete: () => callApi<void>(apiUrl, "DELETE", route),
  };
  return proxy;
}

// ---------------------------------------------------------------------------------------------
// The server process.

const READY_TIMEOUT_MS = 10_000;

/**
 * Starts a Toxiproxy server (a child of this process, killed with it) with its API on a free
 * loopback port, and resolves once GET /version answers. Its log goes to a file in the temp dir.
 */
export async function startToxiproxy(): Promise<Toxiproxy> {
  const bin = await ensureToxiproxyBinary();
  const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "toxiproxy-")), "toxiproxy.log");
  const startOn = async (port: number): Promise<Toxiproxy> => {
    const apiUrl = `http://127.0.0.1:${port}`;
    const logOffset = logSize(logFile);
    const child = spawnServer(bin, port, logFile);
    const exited = whenExited(child);
    const failure = await waitUntilReady(apiUrl, child, logFile, logOffset);
    if (failure !== null) {
      if (isRunning(child)) child.kill("SIGKILL");
      await exited;
      throw new ToxiproxyUnavailableError(`Toxiproxy (${bin}, API ${apiUrl}; log ${logFile}) ${failure}`);
    }
    return {
      apiUrl,
      pid: child.pid ?? -1,
      logFile,
      version: async () => (await (await fetch(`${apiUrl}/version`)).text()).trim(),
      async createProxy(name, upstream) {
        const fields = await callApi<ProxyFields>(apiUrl, "POST", "/proxies", {
          name,
          listen: "127.0.0.1:0",
          upstream,
          enabled: true,
        });
        return proxyHandle(apiUrl, fields);
      },
      async stop() {
        await stopChild(child, exited);
        fs.rmSync(path.dirname(logFile), { recursive: true, force: true });
      },
    };
  };
  return startOnFreePort(
    startOn,
    (error) => error instanceof ToxiproxyUnavailableError && error.message.includes("address already in use"),
  );
}

function spawnServer(bin: string, port: number, logFile: string): ChildProcess {
  const out = fs.openSync(logFile, "a");
  try {
    const child = spawn(bin, ["-host", "127.0.0.1", "-port", String(port)], {
      // Toxiproxy reads LOG_LEVEL too; the tests set it to "silent", which it does not know.
      env: { ...process.env, LOG_LEVEL: "info" },
      stdio: ["ignore", out, out],
    });
    killWithThisProcess(child);
    return child;
  } finally {
    fs.closeSync(out);
  }
}

/** Null once GET /version answers; otherwise why not, in one line (with the log's last line). */
async function waitUntilReady(
  apiUrl: string,
  child: ChildProcess,
  logFile: string,
  logOffset: number,
): Promise<string | null> {
  let spawnError: Error | undefined;
  child.once("error", (error) => (spawnError = error));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError) return `could not be spawned: ${spawnError.message}`;
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = lastLine(readLog(logFile, logOffset)) ?? "(no log)";
      return `exited during start-up (code ${String(child.exitCode)}, signal ${String(child.signalCode)}): ${log}`;
    }
    try {
      const response = await fetch(`${apiUrl}/version`, { signal: AbortSignal.timeout(1_000) });
      await response.text();
      if (response.ok) return null;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) return `did not answer GET /version within ${READY_TIMEOUT_MS} ms`;
    await sleep(50);
  }
}
